/**
 * `dualread recover stream-gap [--max-runs N] [--segments N]`: the recovery of a stream gap (legacy
 * stream records trimmed before CDC read them; docs/runbook.md "Stream gap"). While the gap is open `F`
 * is frozen and no phase advances. This runs verifications with repair, each started now (after the
 * gap opened), until one ends clean, then closes the gap on FRONTIER (versioned, audited) so `F` moves
 * again. A run that repaired drift is not clean, so the usual end is two runs: the repair, the proof.
 */
import type { Command } from 'commander';
import { closeStreamGap } from '../../adapters/stream-gap';
import { isClean } from '../../adapters/verify-runs';
import { gapOpen, gapSummary } from '../../core/frontier';
import type { CliContext } from '../context';
import { ExitCode } from '../exit-codes';
import { newRunId } from '../runs';
import { numberArg } from './parse';
import { reportText, runOnTarget } from './verify';

export function register(program: Command, context: CliContext): void {
  const recover = program
    .command('recover')
    .description('recoveries from incidents dualread detected (see docs/runbook.md)');
  recover
    .command('stream-gap')
    .description(
      'stream records were trimmed before CDC read them: verify with repair until clean, then close the gap (F moves again)',
    )
    .option('--max-runs <n>', 'verifications to try before giving up', numberArg(1, 20, true), 3)
    .option('--segments <n>', 'parallel Scan segments per side', numberArg(1, 10_000, true))
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ maxRuns: number; segments?: number }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const gap = (await target.store.getFrontier())?.gap;
        if (!gapOpen(gap)) {
          out.result({ migrationId: target.migration.id, gap: gap ?? null, recovered: false }, () =>
            gap ? `no stream gap is open; the last one: ${gapSummary(gap) ?? ''}` : 'no stream gap is open',
          );
          return ExitCode.OK;
        }
        if (!out.json) out.io.stderr(`stream gap ${gapSummary(gap) ?? ''}\n`);
        const runs: Array<{ runId: string; clean: boolean }> = [];
        for (let i = 0; i < o.maxRuns; i++) {
          // Numbered: run ids are per second, and a fast first run would give the second its id (and the
          // verification would refuse it as already COMPLETE).
          const runId = `${newRunId('recover', context.now())}-${i + 1}`;
          const { report } = await runOnTarget(
            target,
            {
              runId,
              repair: true,
              actor: target.actor,
              ...(o.segments !== undefined ? { totalSegments: o.segments } : {}),
            },
            out,
            true,
            context.now(),
          );
          const clean = isClean(report);
          runs.push({ runId, clean });
          if (!out.json) out.io.stderr(`${reportText(report, runId, out)}\n`);
          if (!clean || !report) continue;
          const closed = await closeStreamGap({
            client: target.dynamo,
            store: target.store,
            run: { runId, startedAt: report.startedAt, status: report.status, clean },
            actor: target.actor,
            now: context.now,
            clockSkewMs: target.migration.read.clockSkewMs,
          });
          out.result(
            { migrationId: target.migration.id, recovered: true, runs, gap: closed.gap },
            () => `stream gap ${gapSummary(closed.gap) ?? 'closed'}; F moves again (\`dualread status\`)`,
          );
          return ExitCode.OK;
        }
        out.result({ migrationId: target.migration.id, recovered: false, runs, gap }, () =>
          [
            `stream gap still OPEN: none of ${runs.length} verification${runs.length === 1 ? '' : 's'} ended clean (${runs.map((r) => r.runId).join(', ')})`,
            'see each report above (docs/runbook.md "Drift found"), fix what keeps drifting, and run `dualread recover stream-gap` again',
          ].join('\n'),
        );
        return ExitCode.NOT_CLEAN;
      }),
    );
}
