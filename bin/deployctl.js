#!/usr/bin/env node
import { main } from '../dist/cli/main.bundle.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
