/**
 * `dualread rollout --percent N [--surface NAME]`: the share of routing keys served from new in
 * DUAL_READ; with `--surface`, a limit on it for that query surface's queries only.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { numberArg } from './parse';

export function register(program: Command, context: CliContext): void {
  program
    .command('rollout')
    .description('set the DUAL_READ rollout percent (the read path applies it within its cache interval)')
    .requiredOption('--percent <n>', 'integer 0–100', numberArg(0, 100, true))
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option(
      '--surface <name>',
      "limit the rollout of one query surface's queries (the lower of it and the rollout applies)",
    )
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ percent: number; reason?: string; surface?: string }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        if (o.surface !== undefined) {
          const r = await target.plane.setSurfaceRollout(o.surface, o.percent, o.reason ?? '');
          out.result(
            {
              migrationId: target.migration.id,
              surface: o.surface,
              surfaceRolloutPercent: o.percent,
              rolloutPercent: r.state.rolloutPercent,
              state: r.state,
              audit: r.audit,
            },
            () =>
              `rollout limit of surface ${o.surface} of ${target.migration.id}: ${r.audit.from} → ${out.c.bold(`${o.percent} %`)} ` +
              `(rollout ${r.state.rolloutPercent} %; its queries get the lower) by ${r.audit.actor}`,
          );
          return;
        }
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
