// execa, as the runner uses it. The build bundles it into one file, dist/vendor/execa.cjs, which the CLI
// requires when the first command runs: loaded as loose modules, execa costs about 150 ms of every deploy.
export { execa } from 'execa';
