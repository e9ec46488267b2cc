/**
 * Reads one `MigrationFacts` snapshot (core/control/facts.ts) for the guardrails: STATE, FRONTIER,
 * the `VERIFY#` reports, the read path's `SHADOW#` counters over the guardrail window, and through
 * optional ports what the control table does not hold — whether CDC is consuming (core/cdc), whether
 * it is enabled (the event source mapping on AWS, the local poller's heartbeat), and the dead-letter
 * queue's depth (SQS on AWS). Without a dead-letter port the depth is what the frontier tracker
 * counts as dead-lettered on its shards.
 */
import type { CdcConsumerDoc, CdcStatusPort } from '../core/cdc';
import { isBackfillComplete } from '../core/backfill';
import {
  ControlKey,
  type LegacyIndexFact,
  type MigrationFacts,
  type MigrationState,
  SHADOW_COUNTER_PREFIX,
  type VerificationFact,
  initialState,
  type SurfaceCoverage,
  declaredCoverage,
  shadowCounterKey,
  sumShadowCounters,
} from '../core/control';
import type { Migration } from '../core/model';
import type { ControlStore } from './control-store';

/** What the facts need beyond the control table; each is optional (unknown facts fail their guardrail). */
export interface FactsPorts {
  /** Is CDC consuming the legacy stream from TRIM_HORIZON (the BACKFILLING guardrail). */
  readonly cdcStatus?: CdcStatusPort;
  /** Is CDC enabled (FINALIZED is refused while it is); undefined when unknown. */
  readonly cdcEnabled?: () => Promise<boolean | undefined>;
  /** Records in the CDC dead-letter queue; undefined when it cannot be read. */
  readonly deadLetterDepth?: () => Promise<number | undefined>;
  /**
   * The legacy table's secondary indexes (DescribeTable, adapters/legacy-indexes.ts), for the
   * query-surface coverage. Without it the definition's `legacyTable.indexes` stand in, and the
   * guardrail's reason says the table was not described.
   */
  readonly legacyIndexes?: () => Promise<readonly LegacyIndexFact[]>;
}

/** Where the control plane gets its facts (a fake in tests). */
export interface FactsSource {
  read(): Promise<MigrationFacts>;
}

/** The STATE of a migration, or its initial state (version 0) when it has never been written. */
export async function currentState(
  store: ControlStore,
  migration: Migration,
  now: number,
): Promise<MigrationState> {
  return (await store.getState()) ?? initialState(migration.id, migration.backfill.rateLimitPerSecond, now);
}

/** Local mode: CDC is enabled while the poller's `CDC#CONSUMER` heartbeat is fresh. */
export function pollerHeartbeatEnabled(
  store: ControlStore,
  now: () => number,
  maxAgeMs = 30_000,
): () => Promise<boolean> {
  return async () => {
    const doc = await store.get<CdcConsumerDoc>(ControlKey.CDC_CONSUMER);
    return doc !== undefined && doc.state !== 'Disabled' && now() - doc.heartbeatAt <= maxAgeMs;
  };
}

/** Reads the facts from the control table and the ports. */
export class ControlTableFacts implements FactsSource {
  constructor(
    private readonly store: ControlStore,
    private readonly migration: Migration,
    private readonly now: () => number,
    private readonly ports: FactsPorts = {},
  ) {}

  async read(): Promise<MigrationFacts> {
    const now = this.now();
    const since = now - this.migration.guardrails.shadowWindowMs;
    const [state, frontier, reports, minutes, cdc, cdcEnabled, dlq, surfaces] = await Promise.all([
      currentState(this.store, this.migration, now),
      this.store.getFrontier(),
      this.store.list<Record<string, unknown>>('VERIFY#'),
      this.store.list<Record<string, unknown>>(SHADOW_COUNTER_PREFIX, {
        after: shadowCounterKey(since - 60_000),
      }),
      // A port that fails leaves its fact unknown (its guardrail unmet, with why) instead of failing
      // the whole snapshot: `status` must work when, say, the legacy table cannot be described.
      this.ports.cdcStatus?.check().catch((err: unknown) => ({
        consuming: false,
        reason: `the CDC status could not be read (${(err as Error).message}): check the legacy table and the consumer, then retry`,
      })),
      this.ports.cdcEnabled?.().catch(() => undefined),
      this.ports.deadLetterDepth?.().catch(() => undefined),
      this.coverage(),
    ]);
    const fromTracker = frontier?.shards.reduce((n, s) => n + s.deadLettered, 0);
    return {
      now,
      state,
      ...(frontier ? { frontier } : {}),
      backfillComplete: isBackfillComplete(state),
      verifications: reports.map(toVerificationFact).sort((a, b) => b.startedAt - a.startedAt),
      shadow: sumShadowCounters(since, minutes),
      ...(dlq !== undefined || fromTracker !== undefined
        ? { deadLetters: Math.max(dlq ?? 0, fromTracker ?? 0) }
        : {}),
      poison: state.backfill.unresolved ?? state.backfill.poison ?? 0,
      ...(cdc ? { cdc } : {}),
      ...(cdcEnabled !== undefined ? { cdcEnabled } : {}),
      surfaces,
      stalenessBudgetMs: state.settings?.stalenessBudgetMs ?? this.migration.read.stalenessBudgetMs,
      clockSkewMs: this.migration.read.clockSkewMs,
    };
  }

  /** The query-surface coverage: the legacy indexes (port, or the definition) against the surfaces. */
  private async coverage(): Promise<SurfaceCoverage> {
    const declared = declaredCoverage(this.migration);
    if (!this.ports.legacyIndexes)
      return {
        ...declared,
        legacyIndexesSource: 'definition',
        legacyIndexes: (this.migration.legacyTable.indexes ?? []).map((i) => ({
          name: i.name,
          kind: i.kind ?? 'global',
        })),
      };
    try {
      return { ...declared, legacyIndexesSource: 'table', legacyIndexes: await this.ports.legacyIndexes() };
    } catch (err) {
      return {
        ...declared,
        legacyIndexesSource: 'table',
        legacyIndexesError: err instanceof Error ? err.message : String(err),
      };
    }
  }
}

function toVerificationFact(r: Record<string, unknown>): VerificationFact {
  const status = typeof r.status === 'string' ? r.status : 'UNKNOWN';
  const sk = typeof r.sk === 'string' ? r.sk : '';
  return {
    runId: typeof r.runId === 'string' ? r.runId : sk.slice('VERIFY#'.length),
    status,
    startedAt: typeof r.startedAt === 'number' ? r.startedAt : 0,
    ...(typeof r.completedAt === 'number' ? { completedAt: r.completedAt } : {}),
    clean: status === 'COMPLETE' && r.clean === true,
  };
}
