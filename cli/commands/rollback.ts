/** `dualread rollback [--to PHASE] [--reason TEXT]`: back to an earlier phase at once (no guardrail). */
import type { Command } from 'commander';
import type { Phase } from '../../core/control';
import type { CliContext } from '../context';
import { phaseArg } from './parse';

export function register(program: Command, context: CliContext): void {
  program
    .command('rollback')
    .description('move back at once: to --to, or to the last safe phase (DUAL_READ and NEW_PRIMARY → SHADOW)')
    .option('--to <phase>', 'an earlier phase', phaseArg)
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--force', 'needed to leave FINALIZED (with --reason)')
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ to?: Phase; reason?: string; force?: boolean }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const r = await target.plane.rollback(o);
        out.result(
          {
            migrationId: target.migration.id,
            from: r.audit.from,
            to: r.audit.to,
            state: r.state,
            audit: r.audit,
          },
          () =>
            `${out.c.yellow('rolled back')} ${target.migration.id}: ${r.audit.from} → ${out.c.bold(r.state.phase)} by ${r.audit.actor} (rollout ${r.state.rolloutPercent} %)`,
        );
      }),
    );
}
