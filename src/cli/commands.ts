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

export const commands: Array<(program: Command, app: CliApp) => void> = [
  registerDeploy,
  registerRollback,
  registerPromote,
  registerDestroy,
  registerStatus,
  registerList,
  registerHistory,
  registerHealth,
  registerDiff,
  registerValidate,
  registerConfig,
  registerUnlock,
  registerAudit,
  registerUi,
  registerServe,
  registerState,
];
