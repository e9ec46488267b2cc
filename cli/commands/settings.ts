/**
 * `dualread settings`: run-time overrides of the read settings (staleness budget, shadow sample rate,
 * default consistency) and of automatic rollback, audited; the read path applies them within its
 * control cache interval.
 */
import type { Command } from 'commander';
import type { ControlOverrides } from '../../core/control';
import type { CliContext } from '../context';
import { numberArg, onOffArg } from './parse';

export function register(program: Command, context: CliContext): void {
  program
    .command('settings')
    .description('override read settings and auto-rollback at run time (audited)')
    .option(
      '--staleness-budget-ms <ms>',
      'bounded reads serve new only when F is this fresh',
      numberArg(0, 86_400_000, true),
    )
    .option('--shadow-sample-rate <rate>', 'share of reads shadow-compared (0–1)', numberArg(0, 1))
    .option('--default-consistency <mode>', 'legacy, shadow, bounded or strong')
    .option('--auto-rollback <on|off>', 'alarms roll DUAL_READ/NEW_PRIMARY back to SHADOW', onOffArg)
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{
          stalenessBudgetMs?: number;
          shadowSampleRate?: number;
          defaultConsistency?: string;
          autoRollback?: boolean;
          reason?: string;
        }>();
        const patch: ControlOverrides = {
          ...(o.stalenessBudgetMs !== undefined ? { stalenessBudgetMs: o.stalenessBudgetMs } : {}),
          ...(o.shadowSampleRate !== undefined ? { shadowSampleRate: o.shadowSampleRate } : {}),
          ...(o.defaultConsistency !== undefined ? { defaultConsistency: o.defaultConsistency } : {}),
          ...(o.autoRollback !== undefined ? { autoRollback: o.autoRollback } : {}),
        };
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const r = await target.plane.setSettings(patch, o.reason ?? '');
        out.result(
          {
            migrationId: target.migration.id,
            settings: r.state.settings ?? {},
            state: r.state,
            audit: r.audit,
          },
          () =>
            `overrides of ${target.migration.id}: ${JSON.stringify(r.state.settings ?? {})} (by ${r.audit.actor})`,
        );
      }),
    );
}
