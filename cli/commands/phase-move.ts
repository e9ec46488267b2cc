/**
 * What `advance` and `rollback` share: `--to`, `--force` and `--reason`, one move of the phase through
 * the target's control plane, and its result (the migration, the phases it moved between, then what
 * the command reports of the move).
 */
import type { Command } from 'commander';
import type { ControlPlane, ControlResult } from '../../adapters/control-plane';
import type { Phase } from '../../core/control';
import type { CliContext } from '../context';
import type { Output } from '../output';
import type { Target } from '../target';
import { phaseArg } from './parse';

/** The options of a phase move. */
export interface PhaseMoveOptions {
  readonly to?: Phase;
  readonly force?: boolean;
  readonly reason?: string;
}

/** One phase-move command. */
export interface PhaseMoveCommand {
  readonly name: string;
  readonly description: string;
  /** What `--to` and `--force` mean for this move. */
  readonly to: string;
  readonly force: string;
  readonly move: (plane: ControlPlane, o: PhaseMoveOptions) => Promise<ControlResult>;
  /** The result's fields after `migrationId`, `from` and `to`, and its text. */
  readonly report: (
    r: ControlResult,
    target: Target,
    out: Output,
  ) => { readonly fields: Readonly<Record<string, unknown>>; readonly text: () => string };
}

/** Registers a phase-move command on `program`. */
export function registerPhaseMove(program: Command, context: CliContext, c: PhaseMoveCommand): void {
  const command = program
    .command(c.name)
    .description(c.description)
    .option('--to <phase>', c.to, phaseArg)
    .option('--force', c.force)
    .option('--reason <text>', 'why (recorded in the audit log)');
  command.action(
    context.onTarget(async (target, out, cmd) => {
      const r = await c.move(target.plane, cmd.opts<PhaseMoveOptions>());
      const { fields, text } = c.report(r, target, out);
      out.result({ migrationId: target.migration.id, from: r.audit.from, to: r.audit.to, ...fields }, text);
    }),
  );
}
