/**
 * The `poison` function: the operator's operations on keys not in new (invoked directly, not by the
 * state machine): `list` them, `retry` them after a fix, `waive` them, `pin` them to legacy.
 */
import type { StoredPoison } from '../../adapters/poison-registry';
import {
  type PoisonPayload,
  PoisonOrigin,
  PoisonResolution,
  type RetryCount,
  type RetrySettlement,
  checkPoisonPayload,
  isPinned,
  isUnresolved,
  mapForBackfill,
  parseForeignItems,
  poisonKeyHash,
  settleRetryWrite,
  settleWaivedRecord,
} from '../../core/backfill';
import { ForeignItems, type MigrationState } from '../../core/control';
import {
  type Item,
  type JsonItem,
  assertItem,
  itemFromDynamoJson,
  metadataNames,
  sequenceOf,
} from '../../core/model';
import type { BackfillDeps } from './context';

/** An unresolved key as the operations report it. */
export interface UnresolvedKey {
  readonly key: JsonItem;
  readonly reason: string;
  readonly origin: string;
  readonly sequenceNumber?: string;
}

/** Output of the `poison` function. */
export interface PoisonResult {
  readonly operation: PoisonPayload['operation'];
  /** Unresolved keys the operation looked at. */
  readonly examined: number;
  readonly copied: number;
  readonly presentInNew: number;
  readonly absentInLegacy: number;
  readonly keptForeign: number;
  /** Retried and still not copyable (the latest reason is on the key). */
  readonly stillPoison: number;
  readonly waived: number;
  /** Keys this `pin` pinned to legacy. */
  readonly pinned: number;
  /** Keys given to `waive` or `pin` without an unresolved (for `waive`: or pinned) entry. */
  readonly notFound: number;
  /** The retry stopped at its time budget with keys left: invoke it again. */
  readonly more: boolean;
  /** STATE's backfill status after the operation. */
  readonly status?: string;
  readonly unresolvedCount: number;
  /** Up to 100 of the keys still unresolved. */
  readonly unresolved: readonly UnresolvedKey[];
  /** Keys pinned to legacy after the operation, and up to 100 of them with why they were pinned. */
  readonly pinnedCount: number;
  readonly pinnedKeys: readonly PinnedKey[];
}

/** A key pinned to legacy as the operations report it. */
export interface PinnedKey extends UnresolvedKey {
  readonly pinReason: string;
  readonly pinnedBy?: string;
  readonly pinnedAt?: number;
}

/** Most unresolved keys a result lists. */
export const MAX_LISTED_KEYS = 100;

/**
 * Builds the `poison` handler: `list` the unresolved keys; `retry` them after a fix (each legacy item
 * read consistently, mapped with the key check, written under rule 3 with the run's foreign-item
 * policy; a waived stream record's key counts as present only when new holds a state at least as new
 * as the record); `waive` keys an operator decides not to migrate (each with its AUDIT item in one
 * transaction). Then STATE's unresolved count and completion status are recomputed (audited).
 */
export function makePoisonHandler(deps: BackfillDeps): (p: PoisonPayload) => Promise<PoisonResult> {
  const m = deps.migration;
  const names = metadataNames(m.metadataPrefix);

  async function retryOne(
    rec: StoredPoison,
    policy: ForeignItems,
    actor: string,
  ): Promise<RetryCount | 'raced'> {
    const by = { actor, at: deps.now() };
    // A registry item someone else changed meanwhile is theirs to settle ('raced': not counted).
    const settle = async (s: RetrySettlement): Promise<RetryCount | 'raced'> => {
      if ('stillPoison' in s)
        return (await deps.poison.stillPoison(rec, s.stillPoison)) ? 'stillPoison' : 'raced';
      return (await deps.poison.resolve(rec, s.resolution, by)) ? s.count : 'raced';
    };
    const legacyKey = itemFromDynamoJson(rec.key);
    const waivedSeq = rec.origin === PoisonOrigin.CDC_WAIVER ? rec.sequenceNumber : undefined;
    if (waivedSeq) {
      let newKey: Item;
      try {
        newKey = assertItem(m.mapKey(legacyKey), 'mapKey result');
      } catch (err) {
        return settle({
          stillPoison: `mapKey failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
        });
      }
      const stored = await deps.readNew(newKey);
      const settled = settleWaivedRecord(stored && sequenceOf(stored, names), waivedSeq);
      if (settled) return settle(settled);
    }
    const legacy = await deps.readLegacy(legacyKey);
    if (!legacy) return settle({ resolution: PoisonResolution.ABSENT_IN_LEGACY, count: 'absentInLegacy' });
    const mapped = mapForBackfill(m, legacy, by.at);
    if ('reason' in mapped) return settle({ stillPoison: mapped.reason });
    const [o] = await deps.writer.writeAll([mapped.item], policy);
    return settle(settleRetryWrite(o, policy, mapped.key, Boolean(waivedSeq)));
  }

  return async (p) => {
    checkPoisonPayload(p, m.legacyTable.key);
    const started = deps.now();
    const tally = {
      examined: 0,
      copied: 0,
      presentInNew: 0,
      absentInLegacy: 0,
      keptForeign: 0,
      stillPoison: 0,
      waived: 0,
      pinned: 0,
      notFound: 0,
    };
    let more = false;
    let state: MigrationState | undefined;
    if (p.operation === 'retry') {
      const current = await deps.store.getState();
      const policy = parseForeignItems(p.foreignItems, current?.backfill.foreignItems ?? ForeignItems.REFUSE);
      // Pinned keys too: a fixed mapping copies them, an item removed from legacy settles as absent.
      const pending = await deps.poison.retryable();
      for (const rec of pending) {
        if (deps.now() - started >= deps.settings.pageBudgetMs) {
          more = true;
          break;
        }
        tally.examined++;
        const outcome = await retryOne(rec, policy, p.actor);
        if (outcome !== 'raced') tally[outcome]++;
      }
      state = await deps.poison.recount(
        {
          actor: p.actor,
          action: 'backfill-poison-retry',
          reason: p.reason ?? 'retry of the unresolved keys',
          detail: { ...tally, more },
        },
        deps.now,
        true,
      );
    } else if (p.operation === 'pin') {
      const pending = await deps.poison.unresolved();
      const chosen: StoredPoison[] = [];
      if (p.keys === 'all') chosen.push(...pending);
      else
        for (const key of p.keys) {
          const hash = poisonKeyHash(itemFromDynamoJson(key));
          const records = pending.filter((r) => r.sk.endsWith(`#${hash}`));
          if (records.length === 0) tally.notFound++;
          chosen.push(...records);
        }
      tally.examined = chosen.length;
      tally.pinned = await deps.poison.pin(
        chosen,
        { actor: p.actor, reason: p.reason, at: deps.now() },
        m.legacyTable.key.partitionKey.name,
      );
      state = await deps.poison.recount(
        { actor: p.actor, action: 'backfill-poison-recount', reason: `after pinning to legacy: ${p.reason}` },
        deps.now,
      );
    } else if (p.operation === 'waive') {
      // A pinned key may be waived too (accepting that it will be absent from new).
      const pending = await deps.poison.retryable();
      for (const key of p.keys) {
        const hash = poisonKeyHash(itemFromDynamoJson(key));
        const records = pending.filter((r) => r.sk.endsWith(`#${hash}`));
        if (records.length === 0) tally.notFound++;
        for (const rec of records) {
          tally.examined++;
          if (await deps.poison.waive(rec, { actor: p.actor, reason: p.reason, at: deps.now() }))
            tally.waived++;
        }
      }
      state = await deps.poison.recount(
        { actor: p.actor, action: 'backfill-poison-recount', reason: `after waiving: ${p.reason}` },
        deps.now,
      );
    } else {
      state = await deps.store.getState();
    }
    const all = await deps.poison.list();
    const left = all.filter(isUnresolved);
    const pins = all.filter(isPinned);
    return {
      operation: p.operation,
      ...tally,
      more,
      ...(state ? { status: state.backfill.status } : {}),
      unresolvedCount: left.length,
      unresolved: left.slice(0, MAX_LISTED_KEYS).map(listedPoison),
      pinnedCount: pins.length,
      pinnedKeys: pins.slice(0, MAX_LISTED_KEYS).map((r) => ({
        ...listedPoison(r),
        pinReason: r.pinReason ?? '',
        ...(r.resolvedBy ? { pinnedBy: r.resolvedBy } : {}),
        ...(r.resolvedAt !== undefined ? { pinnedAt: r.resolvedAt } : {}),
      })),
    };
  };
}

/** How a poison key is listed (unresolved or pinned): its key, why, where it came from and its record. */
function listedPoison(r: StoredPoison) {
  return {
    key: r.key,
    reason: r.reason,
    origin: r.origin ?? PoisonOrigin.BACKFILL,
    ...(r.sequenceNumber ? { sequenceNumber: r.sequenceNumber } : {}),
  };
}
