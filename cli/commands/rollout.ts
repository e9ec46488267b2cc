/** `dualread rollout --percent N`: the share of routing keys served from new in DUAL_READ. */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { numberArg } from './parse';

export function register(program: Command, context: CliContext): void {
  program
    .command('rollout')
    .description('set the DUAL_READ rollout percent (the read path applies it within its cache interval)')
    .requiredOption('--percent <n>', 'integer 0–100', numberArg(0, 100, true))
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ percent: number; reason?: string }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const r = await target.plane.setRollout(o.percent, o.reason ?? '');
        out.result(
          {
            migrationId: target.migration.id,
            rolloutPercent: r.state.rolloutPercent,
            state: r.state,
            audit: r.audit,
          },
          () =>
            `rollout of ${target.migration.id}: ${r.audit.from} % → ${out.c.bold(`${r.state.rolloutPercent} %`)} by ${r.audit.actor}`,
        );
      }),
    );
}
