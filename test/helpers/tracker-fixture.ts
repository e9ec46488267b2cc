/**
 * The frontier tracker over the faked streams API, evidence and store (fake-streams.ts), as its unit
 * tests set it up: one place for the settings they share, the tracker's construction, and the stream
 * behaviours several tests arrange (a tip rule that one empty page fools, a read that fails once).
 */
import { FrontierTracker, type StepResult, type TrackerConfig } from '../../core/frontier';
import type { Item } from '../../core/model';
import {
  type EmptyRunContext,
  FakeClock,
  FakeEvidence,
  FakeStream,
  type FakeStreamOptions,
  MemoryFrontierStore,
  fakeSync,
} from './fake-streams';

/** Propagation margin of these tests. */
export const MARGIN = 1000;
/** Tip rule in these tests: 3 consecutive empty pages whose first and last started 1 s apart. */
export const TIP_SPAN = 1000;

/** The settings every tracker test starts from (AWS's 1 s granularity). */
export const BASE_TRACKER_CONFIG: TrackerConfig = {
  propagationMarginMs: MARGIN,
  creationGranularityMs: 1000,
  clockSkewMs: 1000,
  itemEvidenceAfterMs: 5000,
  itemEvidencePerShard: 100,
  maxPagesPerShard: 10,
};

/** The fakes a tracker reads and writes through. */
export interface TrackerFakes {
  readonly clock: FakeClock;
  readonly stream: FakeStream;
  readonly evidence: FakeEvidence;
  readonly store: MemoryFrontierStore;
}

/** A tracker of migration `users` (identity `mapKey`) over the fakes. */
export function newTracker(fakes: TrackerFakes, config: TrackerConfig): FrontierTracker {
  return new FrontierTracker({
    migrationId: 'users',
    streams: fakes.stream,
    evidence: fakes.evidence,
    store: fakes.store,
    mapKey: (k: Item) => k,
    config,
    now: fakes.clock.now,
  });
}

/**
 * Fresh fakes and a tracker: granularity `granularityMs`, 50 pages per shard per step, the tip rule of
 * `TIP_SPAN`, children listed within 30 s, and `over` on top. `make` builds another tracker over the
 * same fakes (a restart).
 */
export function trackerSetup(
  granularityMs = 1000,
  streamOptions: FakeStreamOptions = {},
  over: Partial<TrackerConfig> = {},
) {
  const clock = new FakeClock();
  const fakes: TrackerFakes = {
    clock,
    stream: new FakeStream(clock, granularityMs, streamOptions),
    evidence: new FakeEvidence(),
    store: new MemoryFrontierStore(clock),
  };
  const config: TrackerConfig = {
    ...BASE_TRACKER_CONFIG,
    creationGranularityMs: granularityMs,
    maxPagesPerShard: 50,
    tipEmptyPages: 3,
    tipMinSpanMs: TIP_SPAN,
    childListingWaitMs: 30_000,
    ...over,
  };
  const make = () => newTracker(fakes, config);
  return { ...fakes, tracker: make(), make };
}

/**
 * Two steps `TIP_SPAN` apart: the first reads what is there and starts a streak of empty pages, the
 * second's empty page ends a streak of 3 pages over 1 s, so it counts as the tip. Returns the second.
 */
export async function stepToTip(tracker: FrontierTracker, clock: FakeClock): Promise<StepResult> {
  const [, second] = await stepsTipSpanApart(tracker, clock, 2);
  return second as StepResult;
}

/** `count` steps of the tracker, `TIP_SPAN` apart on the fake clock; their results in order. */
export async function stepsTipSpanApart(
  tracker: FrontierTracker,
  clock: FakeClock,
  count: number,
): Promise<StepResult[]> {
  const steps: StepResult[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) clock.advance(TIP_SPAN);
    steps.push(await tracker.step());
  }
  return steps;
}

/**
 * Shard p holds one record, applied by the sync Lambda; `appliedForMs` later the tracker steps to the
 * tip (so F covers it); then p splits into c1 and c2.
 */
export async function splitAfterTip(
  t: Pick<ReturnType<typeof trackerSetup>, 'clock' | 'stream' | 'evidence' | 'tracker'>,
  appliedForMs: number,
): Promise<void> {
  t.stream.addShard('p');
  t.stream.write('p', 'a');
  fakeSync(t.stream, t.evidence);
  t.clock.advance(appliedForMs);
  await stepToTip(t.tracker, t.clock);
  t.stream.split('p', 'c1', 'c2');
}

/** Epoch ms floored to the second (AWS's creation-time granularity). */
export const floorS = (ms: number) => Math.floor(ms / 1000) * 1000;

/** A tip rule that one empty page fools (tip detection fooled on purpose). */
export const ONE_EMPTY_PAGE_TIP = { tipEmptyPages: 1, tipMinSpanMs: 0 } as const;

/** The API returns one empty page after a shard's first page, although more records are visible. */
export const emptyPageAfterFirst = ({ after, position }: EmptyRunContext): number =>
  after === 'page' && position === 1 ? 1 : 0;

/**
 * The stream's `nth` GetRecords from now throws `error` (of the shard it was asked for); the others read
 * on. Returns how many GetRecords calls have been made since.
 */
export function failRead(stream: FakeStream, error: (shardId: string) => Error, nth: number): () => number {
  const records = stream.records.bind(stream);
  let calls = 0;
  stream.records = async (shardId, iterator) => {
    calls++;
    if (calls === nth) throw error(shardId);
    return records(shardId, iterator);
  };
  return () => calls;
}

/** The stream's next GetRecords throws `error` (of the shard it was asked for); later ones read on. */
export function failNextRead(stream: FakeStream, error: (shardId: string) => Error): void {
  failRead(stream, error, 1);
}
