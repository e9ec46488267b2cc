/**
 * The command modules, in `--help` order. A command is a module exporting `register(program,
 * context)`; add yours here (the rehearsal, plan and surfaces commands register the same way).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import * as advance from './advance';
import * as approve from './approve';
import * as audit from './audit';
import * as backfill from './backfill';
import * as dlq from './dlq';
import * as cutover from './cutover';
import * as plan from './plan';
import * as recover from './recover';
import * as rehearse from './rehearse';
import * as rollback from './rollback';
import * as rollout from './rollout';
import * as settings from './settings';
import * as status from './status';
import * as verify from './verify';
import * as surfaces from './surfaces';

/** Registers one command (or a group) on the program. */
export type Register = (program: Command, context: CliContext) => void;

export const COMMANDS: readonly Register[] = [
  status.register,
  advance.register,
  rollback.register,
  rollout.register,
  settings.register,
  approve.register,
  backfill.register,
  verify.register,
  recover.register,
  dlq.register,
  cutover.register,
  audit.register,
  surfaces.register,
  plan.register,
  (program, context) => {
    rehearse.register(program, {
      setExitCode: (code) => {
        context.exitCode = code;
      },
    });
  },
];
