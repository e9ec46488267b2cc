/**
 * The frontier tracker Lambda (docs/design.md §4.4): EventBridge invokes it every minute and it loops inside
 * for about a minute, one tracker step every few seconds, so `F` is fresh to seconds while one
 * invocation at a time (reserved concurrency 1) is the only publisher. Thin: the tracker is
 * core/frontier/tracker.ts, its I/O adapters/streams-reader.ts and adapters/frontier-store.ts.
 *
 * A warm container keeps its tracker (and so its in-memory ledger and shard iterators) between
 * invocations; a cold one resumes from the `SHARD#` control items.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { PHASE_ORDER, type MigrationState } from '../../core/control';
import type { FrontierTracker, StepResult } from '../../core/frontier';
import { Service, observabilityOf } from '../common/observability';

/** Dependencies of the frontier handler. */
export interface FrontierHandlerDeps {
  readonly migrationId: string;
  /** The tracker; built once per container. */
  readonly tracker: FrontierTracker;
  /** How long one invocation loops. @default 55000 ms (the function's timeout is a bit above). */
  readonly loopDurationMs: number;
  /** Time between steps. @default DEFAULT_FRONTIER_LOOP_INTERVAL_MS (250 ms) */
  readonly loopIntervalMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /**
   * Reads the migration's STATE once per invocation, to publish the phase and the rollout as gauges
   * (`Phase`: 0 LEGACY_ONLY … 5 FINALIZED, `RolloutPercent`) for the migration's dashboard: the tracker
   * runs every minute whatever the traffic, so the gauges never go stale. Absent: not published.
   */
  readonly readState?: () => Promise<Pick<MigrationState, 'phase' | 'rolloutPercent'> | undefined>;
  /** Told every step (local mode, tests, benchmarks). */
  readonly onStep?: (r: StepResult) => void;
}

/** What one invocation returns. */
export interface FrontierRunSummary {
  readonly steps: number;
  readonly failedSteps: number;
  readonly frontier: number;
  readonly lagSeconds: number;
  readonly violations: Readonly<Record<string, number>>;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Builds the handler: one invocation runs the tracker loop and returns a summary. */
export function makeFrontierHandler(deps: FrontierHandlerDeps): () => Promise<FrontierRunSummary> {
  const { logger, metrics } = observabilityOf(deps, Service.FRONTIER, deps.migrationId);
  return async () => {
    let steps = 0;
    let failedSteps = 0;
    await publishPhase(deps, metrics, logger);
    const last = await deps.tracker.run({
      durationMs: deps.loopDurationMs,
      intervalMs: deps.loopIntervalMs,
      sleep: deps.sleep ?? realSleep,
      onStep: (r) => {
        steps++;
        metrics.addMetric('FrontierLagSeconds', MetricUnit.Seconds, r.lagSeconds);
        metrics.addMetric('FrontierAssumptionViolations', MetricUnit.Count, r.newViolations);
        metrics.addMetric('FrontierPendingRecords', MetricUnit.Count, r.pending);
        metrics.addMetric('FrontierDeadLettered', MetricUnit.Count, r.deadLettered);
        metrics.addMetric('FrontierLateRecords', MetricUnit.Count, r.newLateRecords);
        metrics.publishStoredMetrics();
        if (r.newLateRecords > 0) {
          logger.error(
            'late record: F was published past a record that was not applied yet; roll dual read back, see docs/runbook.md "Frontier"',
            { newLateRecords: r.newLateRecords, frontier: r.published, shards: r.shards },
          );
        } else if (r.newViolations > 0) {
          logger.error('frontier assumption violated; see docs/correctness.md "Frontier" and the runbook', {
            newViolations: r.newViolations,
            violations: r.violations,
            shards: r.shards,
          });
        }
        logger.debug('frontier step', {
          frontier: r.published,
          computed: r.computed,
          lagSeconds: r.lagSeconds,
        });
        deps.onStep?.(r);
      },
      onError: (err) => {
        failedSteps++;
        logger.error('frontier step failed; the next step retries from the same ledger', {
          error: err as Error,
        });
      },
    });
    const summary: FrontierRunSummary = {
      steps,
      failedSteps,
      frontier: last?.published ?? 0,
      lagSeconds: last?.lagSeconds ?? Number.NaN,
      violations: last?.violations ?? {},
    };
    logger.info('frontier run done', { ...summary });
    return summary;
  };
}

/** Publishes `Phase` and `RolloutPercent` from STATE; a failed read is logged, never fatal to tracking. */
async function publishPhase(deps: FrontierHandlerDeps, metrics: Metrics, logger: Logger): Promise<void> {
  if (!deps.readState) return;
  try {
    const state = await deps.readState();
    if (!state) return;
    metrics.addMetric('Phase', MetricUnit.Count, PHASE_ORDER.indexOf(state.phase));
    metrics.addMetric('RolloutPercent', MetricUnit.Percent, state.rolloutPercent);
    metrics.publishStoredMetrics();
  } catch (err) {
    logger.warn('could not read STATE for the phase metric; the tracker runs on', { error: err as Error });
  }
}
