// Registered with --import: records every ES module URL Node loads into $TRACE_FILE.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (process.env.TRACE_FILE) appendFileSync(process.env.TRACE_FILE, url + '\\n');
  return next(url, context);
}`),
  import.meta.url,
);
