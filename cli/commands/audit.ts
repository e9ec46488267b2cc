/** `dualread audit [--since TIME] [--limit N]`: who did what, oldest first. */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { numberArg, sinceArg } from './parse';

export function register(program: Command, context: CliContext): void {
  program
    .command('audit')
    .description('the audit log: every phase, rollout, settings, approval and alarm change with its actor')
    .option('--since <time>', 'ISO date, epoch ms, or a duration back (30m, 2h, 7d)', sinceArg(context.now))
    .option('--limit <n>', 'only the last n records', numberArg(1, 100_000, true))
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ since?: number; limit?: number }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const records = await target.plane.audit(o);
        out.result({ migrationId: target.migration.id, records }, () =>
          records.length
            ? records
                .map(
                  (r) =>
                    `${new Date(r.at).toISOString()}  ${out.c.bold(r.action.padEnd(14))} ${r.from ?? ''}${r.to ? ` → ${r.to}` : ''}  ${out.c.dim(r.actor)}  ${r.reason}`,
                )
                .join('\n')
            : 'no audit records',
        );
      }),
    );
}
