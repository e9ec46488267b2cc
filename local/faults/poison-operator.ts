/**
 * The operator's side of the `poison` fault (local/faults/poison.ts): noting which dead-letter entries
 * hold poison records (with their reasons), and the remedy the rehearsal plays once the backfill has
 * ended. Kept apart from the rest of the fault run (rehearsal.ts) because it drives the operator's
 * operations (`waiveRecord`, the backfill's `poison` function) rather than observing.
 */
import { type Item, type JsonItem, itemFromDynamoJson } from '../../core/model';
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
    p: { operation: 'list' } | { operation: 'retry'; actor: string; reason: string },
  ) => Promise<{ unresolvedCount: number; unresolved: ReadonlyArray<{ key: JsonItem; reason: string }> }>;
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

/**
 * `poison`, once the backfill has ended: records how the system met each item (the backfill's
 * registration and CDC's dead letter, each with its reason), then plays the team's remedy for items
 * the mapping must never accept (local/faults/poison.ts): the application removes them from legacy,
 * the operator waives each dead-lettered record (a replay would fail again) and deletes its message,
 * and the backfill's `retry` resolves every key as absent from legacy. Throws if the system did not
 * meet an item as designed, or a dead letter or a registered key outlives the remedy.
 */
export async function resolvePoison(ledger: PoisonLedger, h: PoisonHooks): Promise<void> {
  const listed = await h.poisonOperation({ operation: 'list' });
  for (const u of listed.unresolved) ledger.registered(itemFromDynamoJson(u.key), u.reason);
  const live = ledger.items.filter((p) => p.when === 'live');
  await awaitDeadLettered(ledger, h.cdc);
  h.log?.(
    `poison: ${live.length} record(s) dead-lettered, ${listed.unresolvedCount} backfill key(s) unresolved; ` +
      'the application removes the items from legacy',
  );
  const at = Date.now();
  for (const p of ledger.items) await h.workload.delete(p.key);
  // A replay maps the record again and fails again (mapItem never accepts it, however later changes
  // superseded it), so the operator waives each record (audited; its key registered unresolved) and
  // deletes the message; the backfill's retry below resolves the key, absent from legacy now.
  for (const d of [...h.cdc.deadLetters.entries]) {
    if (!holdsPoison(ledger, d)) continue;
    const keys = d.records.map((r) => (r.dynamodb?.Keys ? itemFromDynamoJson(r.dynamodb.Keys) : undefined));
    if (keys.some((k) => !k || !ledger.has(k))) continue;
    for (const [i, r] of d.records.entries())
      await h.waiveRecord(
        r.dynamodb?.SequenceNumber ?? '',
        keys[i] as Item,
        'poison item: mapItem never accepts it; the application removed it from legacy',
      );
    h.cdc.deadLetters.discard(d.id);
  }
  if (h.cdc.deadLetters.entries.some((d) => holdsPoison(ledger, d)))
    throw new FaultConfigError(
      'poison: a dead-letter entry holds a poison record with records of other keys; replay those first',
    );
  const retried = await h.poisonOperation({
    operation: 'retry',
    actor: 'rehearsal@local',
    reason: 'poison items removed from legacy by the application',
  });
  if (retried.unresolvedCount)
    throw new FaultConfigError(
      `poison: ${retried.unresolvedCount} backfill key(s) still unresolved after the retry: ${retried.unresolved
        .map((u) => `${JSON.stringify(u.key)} (${u.reason})`)
        .join('; ')}`,
    );
  ledger.removed(
    at,
    'removed from legacy by the application; its dead-lettered record waived (audited); its key retried: absent-in-legacy',
  );
  h.log?.('poison: items removed from legacy, dead-lettered records waived, keys resolved');
}
