// execa, as the runner uses it. The build replaces dist/vendor/execa.js with a one-file bundle:
// loaded as loose modules, execa costs about 150 ms of every deploy; bundled, a small part of that.
export { execa } from 'execa';
