/** `dualread advance [--to PHASE] [--force --reason TEXT]`: one phase forward, under the guardrails. */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { registerPhaseMove } from './phase-move';

export function register(program: Command, context: CliContext): void {
  registerPhaseMove(program, context, {
    name: 'advance',
    description: 'move one phase forward when every guardrail holds (exit 2 and the unmet ones otherwise)',
    to: 'the phase you expect next (refused if it is not)',
    force: 'override unmet guardrails (audited as forced; needs --reason)',
    move: (plane, o) => plane.advance(o),
    report: (r, target, out) => {
      const forced = r.audit.action === 'advance-forced';
      return {
        fields: { forced, state: r.state, audit: r.audit, guardrails: r.guardrails },
        text: () =>
          [
            `${out.c.green('advanced')} ${target.migration.id}: ${r.audit.from} → ${out.c.bold(r.state.phase)}${forced ? out.c.yellow(' (FORCED)') : ''} by ${r.audit.actor}`,
            out.guardrails(r.guardrails ?? []),
          ].join('\n'),
      };
    },
  });
}
