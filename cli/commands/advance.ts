/** `dualread advance [--to PHASE] [--force --reason TEXT]`: one phase forward, under the guardrails. */
import type { Command } from 'commander';
import type { Phase } from '../../core/control';
import type { CliContext } from '../context';
import { phaseArg } from './parse';

export function register(program: Command, context: CliContext): void {
  program
    .command('advance')
    .description('move one phase forward when every guardrail holds (exit 2 and the unmet ones otherwise)')
    .option('--to <phase>', 'the phase you expect next (refused if it is not)', phaseArg)
    .option('--force', 'override unmet guardrails (audited as forced; needs --reason)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ to?: Phase; force?: boolean; reason?: string }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const r = await target.plane.advance(o);
        out.result(
          {
            migrationId: target.migration.id,
            from: r.audit.from,
            to: r.audit.to,
            forced: r.audit.action === 'advance-forced',
            state: r.state,
            audit: r.audit,
            guardrails: r.guardrails,
          },
          () =>
            [
              `${out.c.green('advanced')} ${target.migration.id}: ${r.audit.from} → ${out.c.bold(r.state.phase)}${r.audit.action === 'advance-forced' ? out.c.yellow(' (FORCED)') : ''} by ${r.audit.actor}`,
              out.guardrails(r.guardrails ?? []),
            ].join('\n'),
        );
      }),
    );
}
