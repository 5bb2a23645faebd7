// The demo app: answers /health with its version, or 503 when FAIL_HEALTH=1.
import { createServer } from 'node:http';

const version = process.env.DEPLOY_VERSION ?? 'unknown';
const port = Number(process.env.PORT ?? 18101);
const failHealth = process.env.FAIL_HEALTH === '1';

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
