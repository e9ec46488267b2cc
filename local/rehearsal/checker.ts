/**
 * The rehearsal's invariant checks (docs/design.md §4) against recorded ground truth: the history of
 * every acknowledged legacy write (`LegacyHistory`), every read answered by the HTTP API, every stream
 * record's first delivery to the sync handler, every frontier the tracker published, and both stores
 * scanned after the drain. Pure: no I/O, no clock. Each failed check names the key and the history
 * excerpt that broke it.
 */
import type { Phase } from '../../core/control';
import {
  type Item,
  type Migration,
  canonicalItem,
  isTombstone,
  itemToDynamoJson,
  itemsEqual,
  keyOf,
  metadataNames,
  stripMetadata,
} from '../../core/model';
import { type LegacyHistory, type LegacyWrite, WriteOp } from '../history';

/** Read modes the rehearsal issues. */
export const ReadMode = {
  BOUNDED: 'bounded',
  STRONG: 'strong',
  SHADOW: 'shadow',
  READ_AFTER: 'read-after',
} as const;
export type ReadMode = (typeof ReadMode)[keyof typeof ReadMode];

/** One read through the HTTP API, as the rehearsal's reader saw it. */
export interface ReadRecord {
  readonly key: Item;
  readonly mode: ReadMode;
  readonly phase: Phase;
  /** Epoch ms before the request was sent and after the answer arrived. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** HTTP status; 0 when no answer arrived (connection error). */
  readonly status: number;
  readonly servedBy?: 'legacy' | 'new';
  readonly reason?: string;
  /** The error message of a 4xx/5xx answer. */
  readonly message?: string;
  /** The `x-staleness-bound-ms` header: null = unbounded or absent. */
  readonly stalenessBoundMs: number | null;
  /** The item answered (200) or undefined (404). */
  readonly observed?: Item;
  /** read-after: the X-Read-After time sent (the ack of a write the reader had seen). */
  readonly readAfter?: number;
}

/** A frontier the tracker published, and when the step that published it returned. */
export interface FrontierSample {
  readonly at: number;
  readonly frontier: number;
}

/** Everything the checks judge. */
export interface CheckInput {
  readonly migration: Migration;
  readonly history: LegacyHistory;
  readonly reads: readonly ReadRecord[];
  /** When the legacy stream was enabled: writes started before it have no stream record. */
  readonly streamEnabledAt: number;
  /**
   * Per legacy key id, for each of its stream records in stream order: when it first reached a sync
   * invocation that applied it — one that lived through its batch, or one killed under it after the
   * record's apply write to new had landed (new's item then carries the record's sequence number, the
   * evidence the frontier tracker accepts, whoever sent the write). The time is the invocation's start.
   */
  readonly deliveries: ReadonlyMap<string, readonly number[]>;
  readonly frontiers: readonly FrontierSample[];
  /** Both stores after writes stopped and CDC drained. */
  readonly legacyItems: readonly Item[];
  readonly newItems: readonly Item[];
}

/** The verdict of one invariant. */
export interface CheckResult {
  readonly name: string;
  readonly description: string;
  readonly passed: boolean;
  /** How many cases were judged. */
  readonly checked: number;
  readonly failures: number;
  /** The first few failures: the key and the history excerpt that broke it. */
  readonly examples: readonly string[];
}

const MAX_EXAMPLES = 5;

class Check {
  checked = 0;
  failures = 0;
  readonly examples: string[] = [];
  constructor(
    readonly name: string,
    readonly description: string,
  ) {}
  judge(ok: boolean, explain: () => string): void {
    this.checked++;
    if (ok) return;
    this.failures++;
    if (this.examples.length < MAX_EXAMPLES) this.examples.push(explain());
  }
  result(): CheckResult {
    return {
      name: this.name,
      description: this.description,
      passed: this.failures === 0,
      checked: this.checked,
      failures: this.failures,
      examples: this.examples,
    };
  }
}

const show = (item: Item | undefined, max = 160): string => {
  if (item === undefined) return 'absent';
  const text = canonicalItem(item);
  return text.length > max ? `${text.slice(0, max)}…` : text;
};

/** A key as DynamoDB JSON, as the API and the AWS CLI show it. */
const keyText = (key: Item): string => JSON.stringify(itemToDynamoJson(key));

/** The writes of `key` around [from, to], as lines for an error message. */
export function historyExcerpt(history: LegacyHistory, key: Item, from: number, to: number): string {
  const writes = history.writesOf(key);
  const near = writes.filter((w) => w.ackedAt >= from - 2000 && w.startedAt <= to + 2000);
  const picked = near.length ? near : writes.slice(-3);
  const lines = picked.map(
    (w) => `    #${w.index} ${w.op} sent ${w.startedAt} acked ${w.ackedAt} → ${show(w.after, 120)}`,
  );
  return lines.length ? lines.join('\n') : '    (no write of this key in the history)';
}

function readFailure(input: CheckInput, r: ReadRecord, from: number, what: string): string {
  return (
    `key ${keyText(r.key)}: ${r.mode} read in ${r.phase} (sent ${r.startedAt}, answered ${r.endedAt}, ` +
    `served by ${r.servedBy ?? '?'}, ${r.reason ?? ''}) ${what}; observed ${show(r.observed)}; ` +
    `legacy held then one of [${input.history
      .possibleStates(r.key, from, r.endedAt)
      .map((s) => show(s, 80))
      .join(' | ')}]\n${historyExcerpt(input.history, r.key, from, r.endedAt)}`
  );
}

/** Runs every check; the rehearsal fails unless every result passed. */
export function checkInvariants(input: CheckInput): CheckResult[] {
  return [...checkStores(input), ...checkReads(input), checkFrontier(input)];
}

/** Convergence, and no lost or resurrected item (invariant 1, judged against the history too). */
export function checkStores(input: CheckInput): CheckResult[] {
  const m = input.migration;
  const names = metadataNames(m.metadataPrefix);
  const converged = new Check(
    'convergence',
    'after the drain every new item equals mapItem(legacy item), every deleted key is absent or a tombstone, and nothing in new lacks a legacy origin',
  );
  const lost = new Check(
    'no-lost-or-resurrected',
    'every key ends as the history says: present in legacy and new with its last acknowledged value, or absent from both',
  );
  const newByKey = new Map<string, Item>();
  for (const item of input.newItems) newByKey.set(canonicalItem(keyOf(item, m.newTable.key)), item);
  const legacyByKey = new Map<string, Item>();
  for (const item of input.legacyItems) legacyByKey.set(input.history.keyId(item), item);
  const origins = new Set<string>();
  for (const legacy of input.legacyItems) {
    const id = canonicalItem(m.mapKey(keyOf(legacy, m.legacyTable.key)));
    origins.add(id);
    const stored = newByKey.get(id);
    converged.judge(
      stored !== undefined &&
        !isTombstone(stored, names) &&
        itemsEqual(stripMetadata(stored, names), m.mapItem(legacy)),
      () =>
        `key ${keyText(keyOf(legacy, m.legacyTable.key))}: legacy ${show(legacy)} but new ${
          stored ? show(stripMetadata(stored, names)) : 'absent'
        }`,
    );
  }
  for (const [id, stored] of newByKey) {
    if (origins.has(id) || isTombstone(stored, names)) continue;
    converged.judge(
      false,
      () =>
        `new key ${keyText(keyOf(stored, m.newTable.key))}: a live item with no legacy origin: ${show(stored)}`,
    );
  }
  for (const final of input.history.finalStates()) {
    const keyId = input.history.keyId(final.key);
    if (input.history.uncertainKeys.has(keyId)) continue;
    const legacy = legacyByKey.get(keyId);
    const stored = newByKey.get(canonicalItem(m.mapKey(final.key)));
    const live = stored && !isTombstone(stored, names) ? stripMetadata(stored, names) : undefined;
    const expected = final.item ? m.mapItem(final.item) : undefined;
    const legacyOk = final.item
      ? legacy !== undefined && itemsEqual(legacy, final.item)
      : legacy === undefined;
    const newOk = expected ? live !== undefined && itemsEqual(live, expected) : live === undefined;
    lost.judge(legacyOk && newOk, () => {
      const what = !legacyOk
        ? `legacy holds ${show(legacy)}`
        : expected && !live
          ? 'LOST: new has no live item'
          : !expected && live
            ? `RESURRECTED: new holds ${show(live)}`
            : `new holds ${show(live)}`;
      return `key ${keyText(final.key)}: last acknowledged state ${show(final.item)} but ${what}\n${historyExcerpt(
        input.history,
        final.key,
        final.ackedAt,
        final.ackedAt,
      )}`;
    });
  }
  return [converged.result(), lost.result()];
}

/** The read checks: every read answered, and each mode's promise kept. */
export function checkReads(input: CheckInput): CheckResult[] {
  const budget = input.migration.read.stalenessBudgetMs;
  const answered = new Check(
    'every-read-answered',
    'every API read got an answer below 500 (no 5xx, no dropped connection)',
  );
  const bounded = new Check(
    'bounded-within-budget',
    `every bounded read served by new carried a staleness bound within the ${budget} ms budget and returned a state legacy held within it; served by legacy, a state legacy held during the read`,
  );
  const strong = new Check(
    'strong-equals-legacy',
    'every strong read returned a state legacy held during the read',
  );
  const shadow = new Check(
    'shadow-serves-legacy',
    'every shadow read returned a state legacy held during the read',
  );
  const readAfter = new Check(
    'read-after-honored',
    'every read with X-Read-After returned a state legacy held at or after that time',
  );
  const uncertain = input.history.uncertainKeys;
  for (const r of input.reads) {
    answered.judge(
      r.status > 0 && r.status < 500,
      () =>
        `key ${keyText(r.key)}: ${r.mode} read in ${r.phase} answered ${r.status || 'nothing (connection error)'}${r.message ? `: ${r.message}` : ''}`,
    );
    if (r.status !== 200 && r.status !== 404) continue;
    if (uncertain.has(input.history.keyId(r.key))) continue;
    const held = (from: number) => input.history.heldDuring(r.key, r.observed, from, r.endedAt);
    if (r.mode === ReadMode.BOUNDED) {
      if (r.servedBy === 'new') {
        const bound = r.stalenessBoundMs;
        const finalized = r.phase === 'FINALIZED';
        const within = finalized || (bound !== null && bound <= budget);
        const from = r.startedAt - budget;
        bounded.judge(within && held(from), () =>
          readFailure(
            input,
            r,
            from,
            within ? `returned a state older than ${budget} ms` : `carried bound ${bound ?? 'unbounded'} ms`,
          ),
        );
      } else {
        bounded.judge(held(r.startedAt), () =>
          readFailure(input, r, r.startedAt, 'returned a state legacy did not hold during the read'),
        );
      }
    } else if (r.mode === ReadMode.STRONG) {
      strong.judge(held(r.startedAt), () => readFailure(input, r, r.startedAt, 'differs from legacy'));
    } else if (r.mode === ReadMode.SHADOW) {
      shadow.judge(held(r.startedAt), () => readFailure(input, r, r.startedAt, 'differs from legacy'));
    } else {
      const from = Math.max(r.readAfter ?? r.startedAt, 0);
      readAfter.judge(held(from), () =>
        readFailure(input, r, from, `missed a write acknowledged before X-Read-After ${from}`),
      );
    }
  }
  return [answered.result(), bounded.result(), strong.result(), shadow.result(), readAfter.result()];
}

/** Whether a write produced a stream record: after the stream existed, and not a delete of nothing. */
function hasRecord(w: LegacyWrite, previous: Item | undefined, streamEnabledAt: number): boolean {
  if (w.startedAt < streamEnabledAt) return false;
  return !(w.op === WriteOp.DELETE && previous === undefined);
}

/**
 * Frontier safety (invariant 4): no published `F` covered a write (acknowledged before `F`) whose stream
 * record had not yet reached a sync invocation that applied it (`deliveries`) when the step that
 * published it returned, or never did.
 * The k-th stream record of a key is its k-th write that produced one (writes to a key are serial).
 */
export function checkFrontier(input: CheckInput): CheckResult {
  const check = new Check(
    'frontier-never-ahead',
    'no published F covered a legacy write whose stream record had not reached the sync handler yet',
  );
  const samples = [...input.frontiers].sort((a, b) => a.at - b.at);
  for (const key of input.history.keys()) {
    const keyId = input.history.keyId(key);
    if (input.history.uncertainKeys.has(keyId)) continue;
    const delivered = input.deliveries.get(keyId) ?? [];
    let previous: Item | undefined;
    let k = 0;
    for (const w of input.history.writesOf(key)) {
      const produced = hasRecord(w, previous, input.streamEnabledAt);
      previous = w.after;
      if (!produced) continue;
      const at = delivered[k++];
      // The first step whose F covers the write (acknowledged before F).
      const first = samples.find((s) => s.frontier > w.ackedAt);
      if (!first) continue;
      check.judge(
        at !== undefined && at <= first.at,
        () =>
          `key ${keyText(key)}: F = ${first.frontier} published at ${first.at} covers write #${w.index} (${w.op}, acked ${w.ackedAt}) ` +
          `whose record ${at === undefined ? 'never reached the sync handler' : `reached it only at ${at}`}\n${historyExcerpt(
            input.history,
            key,
            w.startedAt,
            first.at,
          )}`,
      );
    }
  }
  return check.result();
}
