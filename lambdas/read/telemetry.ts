/**
 * Metrics and decision logs of the read API: Powertools Metrics (CloudWatch EMF: p50/p99 of the
 * latency metrics are visible in CloudWatch) and Powertools Logger (sampled structured decision logs).
 * Handlers take the `ReadTelemetry` port, so tests can count what is recorded.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { BreakerState, RouteReason, Store, ShadowClass } from '../../core/read';
import type { ConsistencyMode } from '../../core/model';
import { METRICS_NAMESPACE, Service } from '../common/observability';

/** One answered read (one key, or one query page). */
export interface ReadEvent {
  readonly migrationId: string;
  readonly op: 'get' | 'batch-get' | 'query';
  readonly mode: ConsistencyMode;
  readonly route: Store;
  readonly reason: RouteReason;
  readonly status: number;
  readonly latencyMs: number;
  readonly stalenessBoundMs: number | null;
  /** The first choice was new and legacy answered (failure, absence, hedge). */
  readonly fallback: boolean;
  readonly hedged: boolean;
  readonly shadow: boolean;
  readonly clamped: boolean;
  readonly breaker: BreakerState;
  /** Key in DynamoDB JSON, for sampled logs only. */
  readonly key?: unknown;
  /** Query pages: the declared surface read (`base`: the base table). */
  readonly surface?: string;
}

/** One shadow comparison. */
export interface MismatchEvent {
  readonly migrationId: string;
  readonly class: ShadowClass;
  readonly first: ShadowClass;
  readonly key: unknown;
  readonly legacyReadAt: number;
  readonly frontier: number;
  /** Why new's item could not be compared (`unmappable`: unmapItem's error). */
  readonly detail?: string;
  /** A query surface's page comparison (`key` is then the queried partition). */
  readonly surface?: string;
}

/** The telemetry port of the read path. */
export interface ReadTelemetry {
  read(event: ReadEvent, sampled: boolean): void;
  comparison(event: MismatchEvent): void;
  storeFailure(migrationId: string, store: Store, timedOut: boolean, message: string): void;
  breakerChanged(migrationId: string, from: BreakerState, to: BreakerState): void;
  /** A request refused with a 4xx (bad input, unknown route); `detail` is for the log only. */
  rejected(status: number, detail?: string): void;
  /** A bug surfaced as a 500. */
  internalError(err: unknown): void;
  /** Publishes buffered metrics (end of invocation). */
  flush(): void;
}

/** Telemetry that records nothing. */
export const NO_TELEMETRY: ReadTelemetry = {
  read: () => undefined,
  comparison: () => undefined,
  storeFailure: () => undefined,
  breakerChanged: () => undefined,
  rejected: () => undefined,
  internalError: () => undefined,
  flush: () => undefined,
};

/** Powertools-backed telemetry. Namespace `dualread`, service `dualread-read`. */
export class PowertoolsReadTelemetry implements ReadTelemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The migration id dimension already added since the last flush (Powertools clears it on publish). */
  private tagged: string | undefined;

  constructor(options: { logger?: Logger; metrics?: Metrics } = {}) {
    this.logger = options.logger ?? new Logger({ serviceName: Service.READ });
    this.metrics =
      options.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: Service.READ });
  }

  read(e: ReadEvent, sampled: boolean): void {
    // Latency per route and mode as metric names (`ReadLatency.new.bounded`) rather than dimension
    // sets: one EMF document per invocation instead of one per metric (a single-metric document per
    // request cost more than the rest of the handler together; see bench/read.ts).
    this.tag(e.migrationId);
    this.metrics.addMetric('ReadLatency', MetricUnit.Milliseconds, e.latencyMs);
    this.metrics.addMetric(`ReadLatency.${e.route}.${e.mode}`, MetricUnit.Milliseconds, e.latencyMs);
    this.metrics.addMetric(e.route === 'new' ? 'ServedFromNew' : 'ServedFromLegacy', MetricUnit.Count, 1);
    // Why each read went where it went (`ReadsByReason.FRESH_ITEM_IN_NEW`): the dashboard's read mix.
    this.metrics.addMetric(`ReadsByReason.${e.reason}`, MetricUnit.Count, 1);
    if (e.fallback) this.metrics.addMetric('Fallbacks', MetricUnit.Count, 1);
    if (e.hedged) this.metrics.addMetric('Hedges', MetricUnit.Count, 1);
    if (e.shadow) this.metrics.addMetric('ShadowReads', MetricUnit.Count, 1);
    if (e.status >= 500) this.metrics.addMetric('ReadFailures', MetricUnit.Count, 1);
    // Per query surface: reads and where they went (the surfaces inventory and guardrail read these).
    if (e.surface !== undefined)
      this.metrics.addMetric(`SurfaceReads.${e.surface}.${e.route}`, MetricUnit.Count, 1);
    this.metrics.addMetric('NewBreakerOpen', MetricUnit.Count, e.breaker === 'closed' ? 0 : 1);
    if (sampled) this.logger.info('read decision', { ...e });
  }

  comparison(e: MismatchEvent): void {
    this.tag(e.migrationId);
    this.metrics.addMetric('ShadowComparisons', MetricUnit.Count, 1);
    this.metrics.addMetric(`ShadowComparisons.${e.class}`, MetricUnit.Count, 1);
    if (e.surface !== undefined)
      this.metrics.addMetric(`ShadowComparisons.${e.surface}.${e.class}`, MetricUnit.Count, 1);
    if (e.class !== 'match') this.logger.info('shadow mismatch', { ...e });
  }

  storeFailure(migrationId: string, store: Store, timedOut: boolean, message: string): void {
    this.metrics.addMetric(store === 'new' ? 'NewStoreErrors' : 'LegacyStoreErrors', MetricUnit.Count, 1);
    this.logger.debug('store read failed', { migrationId, store, timedOut, message });
  }

  breakerChanged(migrationId: string, from: BreakerState, to: BreakerState): void {
    this.logger.warn('new-store circuit breaker changed state', { migrationId, from, to });
  }

  rejected(status: number, detail?: string): void {
    this.metrics.addMetric(status === 400 ? 'BadRequests' : 'ClientErrors', MetricUnit.Count, 1);
    // What the client was not told (DynamoDB's raw refusal, with the table): for operators.
    if (detail !== undefined) this.logger.warn('request refused by DynamoDB as invalid', { status, detail });
  }

  internalError(err: unknown): void {
    this.metrics.addMetric('InternalErrors', MetricUnit.Count, 1);
    if (err instanceof Error) this.logger.error('read handler failed', err);
    else this.logger.error('read handler failed', { error: String(err) });
  }

  flush(): void {
    this.metrics.publishStoredMetrics();
    this.tagged = undefined;
  }

  /** Adds the `migrationId` dimension (the name every dualread handler uses) once per published batch. */
  private tag(migrationId: string): void {
    if (this.tagged === migrationId) return;
    this.metrics.addDimension('migrationId', migrationId);
    this.tagged = migrationId;
  }
}
