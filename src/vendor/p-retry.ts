// p-retry, the one retry layer. The build bundles it into one file, dist/vendor/p-retry.cjs.
export { default as pRetry, AbortError } from 'p-retry';
