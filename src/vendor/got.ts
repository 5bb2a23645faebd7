// got, for HTTP health checks and notifications. The build bundles it into one file, dist/vendor/got.cjs
// (loaded as loose ES modules, got is about a hundred files). Named, not default: a default export
// does not survive the trip through CommonJS the same way everywhere.
export { default as got } from 'got';
