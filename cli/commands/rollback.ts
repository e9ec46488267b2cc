/** `dualread rollback [--to PHASE] [--reason TEXT]`: back to an earlier phase at once (no guardrail). */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { registerPhaseMove } from './phase-move';

export function register(program: Command, context: CliContext): void {
  registerPhaseMove(program, context, {
    name: 'rollback',
    description: 'move back at once: to --to, or to the last safe phase (DUAL_READ and NEW_PRIMARY → SHADOW)',
    to: 'an earlier phase',
    force: 'needed to leave FINALIZED (with --reason)',
    move: (plane, o) => plane.rollback(o),
    report: (r, target, out) => ({
      fields: { state: r.state, audit: r.audit },
      text: () =>
        `${out.c.yellow('rolled back')} ${target.migration.id}: ${r.audit.from} → ${out.c.bold(r.state.phase)} by ${r.audit.actor} (rollout ${r.state.rolloutPercent} %)`,
    }),
  });
}
