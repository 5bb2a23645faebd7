// The demo app: answers /health with its version, or 503 when FAIL_HEALTH=1.
import { createServer } from 'node:http';

const version = process.env.DEPLOY_VERSION ?? 'unknown';
const port = Number(process.env.PORT ?? 18101);
// FAIL_HEALTH=1 (a config variable) or a version listed in BROKEN_VERSIONS (from the environment that
// runs deployctl) makes /health answer 503: how the demo and the tests show a failed health check.
const failHealth = process.env.FAIL_HEALTH === '1' || (process.env.BROKEN_VERSIONS ?? '').split(',').includes(version);

createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(failHealth ? 503 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: failHealth ? 'failing' : 'ok', version }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from ${process.env.DEPLOY_ENV ?? 'nowhere'}, version ${version}\n`);
}).listen(port, '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
