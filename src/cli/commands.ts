// Every command of the CLI, one file each. Each file imports only commander types at the top.
import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { registerValidate } from './validate.js';
import { registerConfig } from './config.js';
import { registerDeploy } from './deploy.js';
import { registerRollback } from './rollback.js';
import { registerStatus } from './status.js';
import { registerList } from './list.js';
import { registerHistory } from './history.js';
import { registerHealth } from './health.js';
import { registerUnlock } from './unlock.js';
import { registerPromote } from './promote.js';
import { registerDiff } from './diff.js';
import { registerUi } from './ui.js';
import { registerAudit } from './audit.js';
import { registerServe } from './serve.js';
import { registerState } from './state.js';
import { registerDestroy } from './destroy.js';

/**
 * Each command by its name (the name it registers: a test checks that they agree), in the order of
 * `deployctl --help`. main() registers only the command a run names, when it names one first.
 */
export const commands: ReadonlyArray<readonly [name: string, register: (program: Command, app: CliApp) => void]> = [
  ['deploy', registerDeploy],
  ['rollback', registerRollback],
  ['promote', registerPromote],
  ['destroy', registerDestroy],
  ['status', registerStatus],
  ['list', registerList],
  ['history', registerHistory],
  ['health', registerHealth],
  ['diff', registerDiff],
  ['validate', registerValidate],
  ['config', registerConfig],
  ['unlock', registerUnlock],
  ['audit', registerAudit],
  ['ui', registerUi],
  ['serve', registerServe],
  ['state', registerState],
];
