// The layering of src/, checked by dependency-cruiser in `npm test` (`npm run lint:imports`).
// Each rule names what may not import what; a violation fails the check with the rule's comment.
// Calls are not imports: "only bin/ calls process.exit" is checked by test/layering/process-exit.test.ts.
'use strict';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-and-engine-not-cli-or-ui',
      severity: 'error',
      comment:
        'src/core and src/engine never import src/cli or src/ui: the CLI, the board and a server all drive the core, which knows none of them. ' +
        'Pass what the core needs (an approver, a reporter, the state store) in its request instead.',
      from: {
        path: '^src/(core|engine)/',
      },
      to: { path: '^src/(cli|ui)/' },
    },
    {
      name: 'state-not-above-it',
      severity: 'error',
      comment: 'src/state never imports src/engine, src/core, src/cli or src/ui: the store is below all of them.',
      from: { path: '^src/state/' },
      to: { path: '^src/(engine|core|cli|ui)/' },
    },
    {
      name: 'config-not-above-it',
      severity: 'error',
      comment: 'src/config never imports src/cli, src/ui, src/engine or src/core.',
      from: { path: '^src/config/' },
      to: { path: '^src/(cli|ui|engine|core)/' },
    },
    {
      name: 'executors-not-above-them',
      severity: 'error',
      comment:
        'src/executors never import src/engine, src/core, src/cli or src/ui: the engine drives the executors, which know none of them. ' +
        'What both need (formatting a command, names, errors) lives in a shared file at the top of src/ (src/format.ts, src/names.ts, src/errors.ts).',
      from: { path: '^src/executors/' },
      to: { path: '^src/(engine|core|cli|ui)/' },
    },
    {
      name: 'executors-never-spawn',
      severity: 'error',
      comment:
        'Executors plan argv; only the runner (src/engine/runner.ts) spawns processes. ' +
        'An executor never imports execa, node:child_process or the runner.',
      from: {
        path: '^src/executors/',
      },
      to: { path: ['^(node:)?child_process$', '(^|/)execa(/|\\.|$)', '^src/engine/runner\\.ts$'] },
    },
    {
      name: 'only-the-runner-imports-execa',
      severity: 'error',
      comment: 'Only src/engine/runner.ts runs commands: it alone imports execa (through src/vendor/execa.ts, which bundles it).',
      from: { pathNot: '^src/(engine/runner\\.ts|vendor/)' },
      to: { path: ['^src/vendor/execa\\.ts$', '(^|/)node_modules/execa/'] },
    },
    {
      name: 'execa-only-through-vendor',
      severity: 'error',
      comment: 'The execa package is imported only by src/vendor/execa.ts (the build bundles it into one file).',
      from: { pathNot: '^src/vendor/' },
      to: { path: '(^|/)node_modules/execa/' },
    },
    {
      name: 'src-not-tests-or-tools',
      severity: 'error',
      comment: 'src/ does not import from test/, bench/ or scripts/.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    // `import type` counts: a type import still ties the layers together.
    detectJSDocImports: false,
  },
};
