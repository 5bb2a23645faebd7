// Registered with --import: records into $TRACE_FILE the URL of every module Node loads, ES modules
// (through a loader hook) and CommonJS files (through Module._load), built-ins left out.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (process.env.TRACE_FILE && !url.startsWith('node:')) appendFileSync(process.env.TRACE_FILE, url + '\\n');
  return next(url, context);
}`),
  import.meta.url,
);

const load = Module._load;
Module._load = function (request, parent, isMain) {
  const file = Module._resolveFilename(request, parent, isMain);
  if (process.env.TRACE_FILE && !Module.isBuiltin(file)) appendFileSync(process.env.TRACE_FILE, pathToFileURL(file).href + '\n');
  return load.apply(this, arguments);
};
