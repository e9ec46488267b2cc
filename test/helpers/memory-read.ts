/**
 * The read handler over in-memory stores and a fake clock (unit tests of the read path): a legacy and
 * a new `ItemStore` that can fail, hang or be slow like DynamoDB, and a control source whose state,
 * frontier and failures the test sets.
 */
import { TEST_TOKEN_SECRET } from './api-events';
import type { ShadowCounterSink } from '../../adapters/shadow-counters';
import { type ItemStore, StoreReadError } from '../../adapters/item-store';
import {
  BackfillStatus,
  type FrontierState,
  type MigrationState,
  Phase,
  initialState,
} from '../../core/control';
import { metadataNames, type Migration, type Item, canonicalItem } from '../../core/model';
import { usersMigration } from '../../examples/users/migration';
import type { ControlSource } from '../../lambdas/read/control-cache';
import type { ReadOptions } from '../../lambdas/read/engine';
import { makeReadHandler } from '../../lambdas/read/handler';
import type { ReadTelemetry } from '../../lambdas/read/telemetry';

export const names = metadataNames('_dr_');

export class MemoryStore implements ItemStore {
  readonly items = new Map<string, Item>();
  fail = false;
  delayMs = 0;
  calls = 0;
  constructor(
    readonly tableName: string,
    private readonly keyNames: readonly string[],
  ) {}
  put(item: Item): void {
    this.items.set(canonicalItem(Object.fromEntries(this.keyNames.map((n) => [n, item[n]])) as Item), item);
  }
  async get(key: Item, signal: AbortSignal): Promise<Item | undefined> {
    this.calls++;
    if (this.delayMs)
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new StoreReadError(this.tableName, false, true, 'aborted'));
        });
      });
    if (this.fail) throw new StoreReadError(this.tableName, false, false, new Error('boom'));
    return this.items.get(canonicalItem(key));
  }
  async query(): Promise<{ items: Item[] }> {
    return { items: [] };
  }
}

export function setup(
  phase: Phase = Phase.NEW_PRIMARY,
  extra: {
    options?: Partial<ReadOptions>;
    telemetry?: ReadTelemetry;
    startMs?: number;
    /** The migration under test (the example by default). */
    migration?: Migration;
    /** Where shadow comparisons are counted (the control table's SHADOW# items in production). */
    counters?: ShadowCounterSink;
  } = {},
) {
  const migration = extra.migration ?? usersMigration;
  let t = extra.startMs ?? 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const legacy = new MemoryStore('legacy', ['userId']);
  const fresh = new MemoryStore('new', ['PK', 'SK']);
  let state: MigrationState | undefined = {
    ...initialState('users', 0, 0),
    phase,
    rolloutPercent: 100,
    backfill: { status: BackfillStatus.COMPLETE },
  };
  let controlFails = false;
  // While `hang` is set, control reads wait until `releaseControl()` (a control table that stalls).
  let hang: Array<() => void> | undefined;
  let controlReads = 0;
  const control: ControlSource = {
    getState: async () => {
      controlReads++;
      if (hang) await new Promise<void>((resolve) => hang?.push(resolve));
      if (controlFails) throw new Error('control down');
      return state;
    },
    getFrontier: async (): Promise<FrontierState> => ({
      migrationId: 'users',
      frontier: t,
      computedAt: t,
      shards: [],
      version: 1,
    }),
  };
  const legacyItem = { userId: { S: 'u-1' }, fullName: { S: 'Ada' } };
  legacy.put(legacyItem);
  fresh.put({ ...migration.mapItem(legacyItem), [names.seq]: { S: '1'.padStart(40, '0') } });
  const handler = makeReadHandler({
    tokenSecret: TEST_TOKEN_SECRET,
    targets: [{ migration, legacy, fresh, control, ...(extra.counters ? { counters: extra.counters } : {}) }],
    now: clock.now,
    random: () => 0.5,
    ...(extra.telemetry ? { telemetry: extra.telemetry } : {}),
    options: {
      hedgeAfterMs: 20,
      newTimeoutMs: 200,
      breaker: { consecutiveFailures: 3, openMs: 5_000, probeSuccesses: 2 },
      ...extra.options,
    },
  });
  return {
    clock,
    legacy,
    fresh,
    handler,
    setState: (s: Partial<MigrationState>) => (state = { ...(state as MigrationState), ...s }),
    failControl: (v: boolean) => (controlFails = v),
    /** From now on control reads stall until `releaseControl`. */
    hangControl: () => (hang = []),
    /** Lets every stalled control read finish and stops stalling. */
    releaseControl: () => {
      const waiting = hang ?? [];
      hang = undefined;
      for (const resume of waiting) resume();
    },
    controlReads: () => controlReads,
  };
}
