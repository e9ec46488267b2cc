/**
 * The operator's side of the `poison` fault (local/faults/poison.ts): noting which dead-letter entries
 * hold poison records (with their reasons), pinning the keys to legacy once the backfill has ended,
 * probing batch gets and queries of them, and the remedy the rehearsal plays before FINALIZED. Kept apart from the rest of the fault run (rehearsal.ts) because it drives the operator's
 * operations (`waiveRecord`, the backfill's `poison` function) rather than observing.
 */
import { type Item, type JsonItem, itemFromDynamoJson, itemToDynamoJson } from '../../core/model';
import type { LocalDeadLetter } from '../dead-letter-queue';
import { FaultConfigError } from './plan';
import type { PoisonLedger } from './poison';

/** What the poison clean-up needs of the walk: the legacy writer and the backfill's `poison` operation. */
export interface PoisonHooks {
  readonly workload: { put(item: Item): Promise<unknown>; delete(key: Item): Promise<unknown> };
  readonly cdc: {
    readonly deadLetters: { readonly entries: readonly LocalDeadLetter[]; discard(id: number): boolean };
  };
  readonly poisonOperation: (
    p:
      | { operation: 'list' }
      | { operation: 'retry'; actor: string; reason: string }
      | { operation: 'pin'; actor: string; reason: string; keys: JsonItem[] },
  ) => Promise<{
    unresolvedCount: number;
    unresolved: ReadonlyArray<{ key: JsonItem; reason: string }>;
    pinnedCount: number;
    pinnedKeys: ReadonlyArray<{ key: JsonItem; reason: string }>;
  }>;
  /** Waives a dead-lettered stream record of `key` (`waiveRecord`: audited, the key registered unresolved). */
  readonly waiveRecord: (sequenceNumber: string, key: Item, reason: string) => Promise<void>;
  readonly log?: (line: string) => void;
}

/** How long the poison clean-up waits for CDC to dead-letter, and for the operator's waivers. */
const POISON_WAIT_MS = 90_000;

/** Notes the poison keys among a dead-letter entry's records, with the entry's reason. */
export function notePoison(ledger: PoisonLedger, d: LocalDeadLetter): void {
  for (const r of d.records)
    if (r.dynamodb?.Keys) ledger.deadLettered(itemFromDynamoJson(r.dynamodb.Keys), d.reason);
}

/**
 * Waits until CDC has dead-lettered the record of every live poison item (noting each reason), as an
 * operator waits for CDC to settle before starting the backfill: the backfill's preflight refuses to
 * start while the poller's last result is a batch with failed records.
 */
export async function awaitDeadLettered(ledger: PoisonLedger, cdc: PoisonHooks['cdc']): Promise<void> {
  const deadline = Date.now() + POISON_WAIT_MS;
  const pending = () => {
    for (const d of cdc.deadLetters.entries) notePoison(ledger, d);
    return ledger.outcomes([]).filter((o) => o.when === 'live' && o.deadLettered === undefined);
  };
  while (pending().length) {
    if (Date.now() > deadline)
      throw new FaultConfigError(
        `poison: ${pending()
          .map((o) => o.key)
          .join(', ')} not dead-lettered within ${POISON_WAIT_MS} ms of writing them`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether a dead-letter entry holds a record of a poison key. */
export function holdsPoison(ledger: PoisonLedger, d: LocalDeadLetter): boolean {
  return d.records.some((r) => r.dynamodb?.Keys && ledger.has(itemFromDynamoJson(r.dynamodb.Keys)));
}

/** The keys' DynamoDB JSON, for the `poison` function. */
const jsonKeys = (ledger: PoisonLedger): JsonItem[] => ledger.items.map((p) => itemToDynamoJson(p.key));

/**
 * `poison`, once the backfill has ended: records how the system met each item (the backfill's
 * registration and CDC's dead letter, each with its reason), then plays the operator's decision for
 * items the mapping must never accept (local/faults/poison.ts): pin them to legacy, as `dualread dlq
 * pin` and `dualread backfill poison pin` do. Each dead-lettered record is waived for the frontier
 * (audited; its key registered), every poison key is pinned (audited), and only then are the entries
 * deleted from the queue. Throws if the system did not meet an item as designed or a key is not pinned.
 */
export async function pinPoison(ledger: PoisonLedger, h: PoisonHooks): Promise<void> {
  const listed = await h.poisonOperation({ operation: 'list' });
  for (const u of listed.unresolved) ledger.registered(itemFromDynamoJson(u.key), u.reason);
  await awaitDeadLettered(ledger, h.cdc);
  const reason = 'mapItem never accepts it: served by legacy until the mapping is fixed or it leaves legacy';
  const entries = h.cdc.deadLetters.entries.filter((d) => holdsPoison(ledger, d));
  for (const d of entries) {
    const keys = d.records.map((r) => (r.dynamodb?.Keys ? itemFromDynamoJson(r.dynamodb.Keys) : undefined));
    if (keys.some((k) => !k || !ledger.has(k)))
      throw new FaultConfigError(
        'poison: a dead-letter entry holds a poison record with records of other keys; replay those first',
      );
    // A replay would map the record again and fail again: the record is waived for the frontier.
    for (const [i, r] of d.records.entries())
      await h.waiveRecord(r.dynamodb?.SequenceNumber ?? '', keys[i] as Item, `pinned to legacy: ${reason}`);
  }
  const at = Date.now();
  const pinned = await h.poisonOperation({
    operation: 'pin',
    actor: 'rehearsal@local',
    reason,
    keys: jsonKeys(ledger),
  });
  const wanted = new Set(ledger.items.map((p) => JSON.stringify(itemToDynamoJson(p.key))));
  const got = new Set(pinned.pinnedKeys.map((k) => JSON.stringify(k.key)));
  const missing = [...wanted].filter((k) => !got.has(k));
  if (missing.length)
    throw new FaultConfigError(
      `poison: ${missing.join(', ')} not pinned to legacy (${pinned.pinnedCount} pinned)`,
    );
  // The records leave the queue only now that their keys are pinned.
  for (const d of entries) h.cdc.deadLetters.discard(d.id);
  ledger.pinned(
    at,
    `pinned to legacy by rehearsal@local (${reason}); dead-lettered records waived for the frontier`,
  );
  h.log?.(
    `poison: ${ledger.items.length} key(s) pinned to legacy (${entries.length} dead-letter entr${entries.length === 1 ? 'y' : 'ies'} ` +
      'waived and deleted); the migration goes on with them served by legacy',
  );
}

/**
 * `poison`, before FINALIZED (whose guardrail refuses pinned keys): the remedy the guardrail names.
 * The application removes the items from legacy, and the backfill's `retry` settles every pin
 * (absent from legacy, or the delete's tombstone already in new). Throws if a key stays pinned.
 */
export async function unpinPoison(ledger: PoisonLedger, h: PoisonHooks): Promise<void> {
  const at = Date.now();
  for (const p of ledger.items) await h.workload.delete(p.key);
  const retried = await h.poisonOperation({
    operation: 'retry',
    actor: 'rehearsal@local',
    reason: 'poison items removed from legacy by the application (the FINALIZED guardrail’s remedy)',
  });
  if (retried.unresolvedCount || retried.pinnedCount)
    throw new FaultConfigError(
      `poison: ${retried.unresolvedCount} unresolved and ${retried.pinnedCount} pinned key(s) left after the retry: ${[
        ...retried.unresolved,
        ...retried.pinnedKeys,
      ]
        .map((u) => `${JSON.stringify(u.key)} (${u.reason})`)
        .join('; ')}`,
    );
  ledger.removed(
    at,
    'before FINALIZED, removed from legacy by the application; its key retried (audited): pin settled',
  );
  h.log?.('poison: items removed from legacy, pins settled by the retry; FINALIZED may proceed');
}

/** Sends a batch get (the pinned key and another) and a query of the partition of each pinned key. */
export async function probePinned(
  ledger: PoisonLedger,
  api: {
    readonly url: string;
    readonly migrationId: string;
    readonly phase: string;
    readonly otherKey: Item;
  },
): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${api.url}/migrations/${encodeURIComponent(api.migrationId)}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { res, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  for (const p of ledger.items) {
    const batch = await post('batch-get', {
      keys: [itemToDynamoJson(p.key), itemToDynamoJson(api.otherKey)],
    });
    const first = (
      batch.json.results as Array<{ servedBy?: string; reason?: string; status?: number }> | undefined
    )?.[0];
    ledger.probed({
      key: p.key,
      kind: 'batch-get',
      phase: api.phase,
      status: first?.status ?? batch.res.status,
      ...(first?.servedBy ? { servedBy: first.servedBy } : {}),
      ...(first?.reason ? { reason: first.reason } : {}),
    });
    const partition = Object.values(itemToDynamoJson(p.key))[0];
    const q = await post('query', { partitionKey: partition });
    ledger.probed({
      key: p.key,
      kind: 'query',
      phase: api.phase,
      status: q.res.status,
      ...(q.res.headers.get('x-served-by') ? { servedBy: q.res.headers.get('x-served-by') as string } : {}),
      ...(q.res.headers.get('x-route-reason')
        ? { reason: q.res.headers.get('x-route-reason') as string }
        : {}),
    });
  }
}
