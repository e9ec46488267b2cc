/**
 * The rehearsal's check of keys pinned to legacy (the `poison` fault): every read of a pinned key sent
 * while it was pinned — the API reads, and the batch gets and queries of its partition the operator
 * sent — was answered by legacy. New does not hold a pinned item, so an answer from new (absent, or an
 * older state) would be wrong. Pure: no I/O, no clock.
 */
import { type Item, canonicalItem, itemToDynamoJson } from '../../core/model';
import type { CheckResult, ReadRecord } from './checker';

/** What the check needs of the pins: the keys, when they were pinned, the probes sent meanwhile. */
export interface PinnedReadsInput {
  readonly keys: readonly Item[];
  readonly window: { readonly from: number; readonly to: number };
  readonly reads: readonly Pick<
    ReadRecord,
    'key' | 'startedAt' | 'status' | 'servedBy' | 'reason' | 'phase'
  >[];
  readonly probes: ReadonlyArray<{
    readonly key: Item;
    readonly kind: string;
    readonly phase: string;
    readonly status: number;
    readonly servedBy?: string;
    readonly reason?: string;
  }>;
}

const MAX_EXAMPLES = 5;

/** `pinned-reads-from-legacy`: each read of a pinned key while pinned answered (200/404) by legacy. */
export function checkPinnedReads(input: PinnedReadsInput): CheckResult {
  const pinned = new Set(input.keys.map(canonicalItem));
  let checked = 0;
  const failures: string[] = [];
  const judge = (
    what: string,
    r: { key: Item; phase: string; status: number; servedBy?: string; reason?: string },
  ) => {
    checked++;
    if ((r.status === 200 || r.status === 404) && r.servedBy === 'legacy') return;
    failures.push(
      `${what} of pinned key ${JSON.stringify(itemToDynamoJson(r.key))} in ${r.phase}: ${r.status} from ${r.servedBy ?? 'nobody'} (${r.reason ?? 'no reason'})`,
    );
  };
  for (const r of input.reads)
    if (pinned.has(canonicalItem(r.key)) && r.startedAt >= input.window.from && r.startedAt < input.window.to)
      judge('get', r);
  for (const p of input.probes) judge(p.kind, p);
  return {
    name: 'pinned-reads-from-legacy',
    description:
      'every read of a key pinned to legacy while it was pinned (gets, batch gets, queries of its partition) was answered by legacy',
    passed: failures.length === 0,
    checked,
    failures: failures.length,
    examples: failures.slice(0, MAX_EXAMPLES),
  };
}
