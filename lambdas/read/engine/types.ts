/**
 * The read engine's public types: its tunables and their defaults, one migration's stores, a
 * request's context, and the results of a single-key read and of a query page.
 */
import type { ItemStore } from '../../../adapters/item-store';
import type { ShadowCounterSink } from '../../../adapters/shadow-counters';
import type { BreakerOptions, RouteDecision } from '../../../core/read';
import type { ConsistencyMode, Item, Migration } from '../../../core/model';
import {
  type ControlSource,
  DEFAULT_CONTROL_REFRESH_TIMEOUT_MS,
  DEFAULT_CONTROL_WAIT_MS,
} from '../control-cache';

/** Tunables of the read engine (all have defaults; see `DEFAULT_READ_OPTIONS`). */
export interface ReadOptions {
  /** Timeout of one read of the new store, retries included. */
  readonly newTimeoutMs: number;
  /** Timeout of one read of the legacy store, retries included. */
  readonly legacyTimeoutMs: number;
  /** Fixed hedge delay; when undefined, the observed p95 of the new store (clamped below). */
  readonly hedgeAfterMs?: number;
  readonly hedgeFloorMs: number;
  readonly hedgeCeilingMs: number;
  /** Hedge delay before enough latencies are observed. */
  readonly hedgeFallbackMs: number;
  /** Attempts per store read (first attempt included), within the timeout and the retry budget. */
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryCapMs: number;
  /** Retries per first attempt allowed over 10 s (plus 10): retries cannot storm. */
  readonly retryRatio: number;
  readonly breaker: Partial<BreakerOptions>;
  /**
   * Secret of the query page tokens (HMAC-SHA256): the secret itself (local mode, tests) or a source that
   * reads it (deployed: Secrets Manager through Powertools Parameters, cached). No default: a constant
   * fallback would let anyone forge tokens.
   */
  readonly tokenSecret: string | (() => Promise<string>);
  /** Share of reads whose decision is logged. */
  readonly decisionLogSampleRate: number;
  /** Shadow re-check: how long to wait for the frontier to pass the legacy read, and how often to look. */
  readonly recheckMaxWaitMs: number;
  readonly recheckPollMs: number;
  /** Keys of a batch read at once. */
  readonly batchConcurrency: number;
  /** Longest a read waits for a control-state refresh before routing on the last snapshot. */
  readonly controlWaitMs: number;
  /** A control-state refresh still running after this is abandoned (the next read starts another). */
  readonly controlRefreshTimeoutMs: number;
}

/** Defaults of `ReadOptions` (every one but the page-token secret, which is always given). */
export const DEFAULT_READ_OPTIONS: Omit<ReadOptions, 'tokenSecret'> = {
  newTimeoutMs: 300,
  legacyTimeoutMs: 3000,
  hedgeFloorMs: 2,
  hedgeCeilingMs: 250,
  hedgeFallbackMs: 50,
  maxAttempts: 3,
  retryBaseMs: 10,
  retryCapMs: 100,
  retryRatio: 0.1,
  breaker: {},
  decisionLogSampleRate: 0.01,
  recheckMaxWaitMs: 15_000,
  recheckPollMs: 250,
  batchConcurrency: 16,
  controlWaitMs: DEFAULT_CONTROL_WAIT_MS,
  controlRefreshTimeoutMs: DEFAULT_CONTROL_REFRESH_TIMEOUT_MS,
};

/** One migration's stores and control source. */
export interface ReadTarget {
  readonly migration: Migration;
  readonly legacy: ItemStore;
  readonly fresh: ItemStore;
  readonly control: ControlSource;
  /** Per-minute shadow counters in the control table (the SHADOW guardrail's facts); fire and forget. */
  readonly counters?: ShadowCounterSink;
}

/** Per-request inputs from headers and query parameters. */
export interface RequestContext {
  readonly requested?: ConsistencyMode;
  readonly readAfter?: number;
  readonly routingKey?: string;
}

/** Result of one single-key read. */
export interface KeyResult {
  readonly status: 200 | 404 | 503;
  /** The item in the legacy shape (status 200). */
  readonly item?: Item;
  readonly decision: RouteDecision;
  readonly fallback: boolean;
  readonly hedged: boolean;
  readonly message?: string;
}

/** Result of one query page. */
export interface PageResult {
  /** 409: a surface's page sequence whose store may no longer serve it (restart the query). */
  readonly status: 200 | 409 | 503;
  readonly items: readonly Item[];
  readonly nextToken?: string;
  readonly decision: RouteDecision;
  readonly fallback: boolean;
  readonly message?: string;
}
