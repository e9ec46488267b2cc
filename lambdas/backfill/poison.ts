/**
 * The `poison` function: the operator's operations on keys not in new (invoked directly, not by the
 * state machine): `list` them, `retry` them after a fix, `waive` them.
 */
import type { StoredPoison } from '../../adapters/poison-registry';
import {
  BackfillInputError,
  PoisonOrigin,
  PoisonResolution,
  foreignRefusedReason,
  mapForBackfill,
  parseForeignItems,
  poisonKeyHash,
} from '../../core/backfill';
import { ForeignItems, type MigrationState } from '../../core/control';
import {
  type Item,
  type JsonItem,
  type KeySchema,
  assertItem,
  canonicalItem,
  compareSequence,
  itemFromDynamoJson,
  keyNames,
  keyOf,
  metadataNames,
  sequenceOf,
} from '../../core/model';
import type { BackfillDeps } from './context';

/** Input of the `poison` function. */
export type PoisonPayload =
  | { readonly operation: 'list' }
  | {
      readonly operation: 'retry';
      /** Who retries (recorded on each resolved key and in the audit record). */
      readonly actor: string;
      readonly reason?: string;
      /** @default the run's `foreignItems` in STATE, else `refuse` */
      readonly foreignItems?: ForeignItems;
    }
  | {
      readonly operation: 'waive';
      readonly actor: string;
      /** Why these keys need not be in new (the audit record). */
      readonly reason: string;
      /** Legacy keys, DynamoDB JSON. */
      readonly keys: readonly JsonItem[];
    };

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
  /** Keys given to `waive` without an unresolved entry. */
  readonly notFound: number;
  /** The retry stopped at its time budget with keys left: invoke it again. */
  readonly more: boolean;
  /** STATE's backfill status after the operation. */
  readonly status?: string;
  readonly unresolvedCount: number;
  /** Up to 100 of the keys still unresolved. */
  readonly unresolved: readonly UnresolvedKey[];
}

/** Most unresolved keys a result lists. */
export const MAX_LISTED_KEYS = 100;

function checkPoisonPayload(p: PoisonPayload, legacyKey: KeySchema): void {
  const op = (p as { operation?: unknown })?.operation;
  if (op !== 'list' && op !== 'retry' && op !== 'waive')
    throw new BackfillInputError(`operation must be 'list', 'retry' or 'waive', not ${JSON.stringify(op)}`);
  if (p.operation === 'list') return;
  if (typeof p.actor !== 'string' || p.actor.trim() === '')
    throw new BackfillInputError(`${p.operation} needs an actor (who does it: the audit record names them)`);
  if (p.operation === 'retry') {
    parseForeignItems(p.foreignItems, ForeignItems.REFUSE);
    return;
  }
  if (typeof p.reason !== 'string' || p.reason.trim() === '')
    throw new BackfillInputError('waive needs a reason (why these keys need not be in the new table)');
  if (!Array.isArray(p.keys) || p.keys.length === 0 || p.keys.length > 1000)
    throw new BackfillInputError('waive needs keys: 1 to 1000 legacy keys in DynamoDB JSON');
  for (const k of p.keys) {
    const item = itemFromDynamoJson(k);
    if (
      canonicalItem(keyOf(item, legacyKey)) !== canonicalItem(item) ||
      Object.keys(item).length !== keyNames(legacyKey).length
    )
      throw new BackfillInputError(
        `${JSON.stringify(k)} is not a legacy key: it must have exactly the attributes ${keyNames(legacyKey).join(', ')}`,
      );
  }
}

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
  type Outcome = 'copied' | 'presentInNew' | 'absentInLegacy' | 'keptForeign' | 'stillPoison' | 'raced';

  async function retryOne(rec: StoredPoison, policy: ForeignItems, actor: string): Promise<Outcome> {
    const by = { actor, at: deps.now() };
    const settle = async (resolution: PoisonResolution, outcome: Outcome): Promise<Outcome> =>
      (await deps.poison.resolve(rec, resolution, by)) ? outcome : 'raced';
    const still = async (reason: string): Promise<Outcome> =>
      (await deps.poison.stillPoison(rec, reason)) ? 'stillPoison' : 'raced';
    const legacyKey = itemFromDynamoJson(rec.key);
    const waivedSeq = rec.origin === PoisonOrigin.CDC_WAIVER ? rec.sequenceNumber : undefined;
    if (waivedSeq) {
      // A waived record's change may be missing while an older state of the key is in new: only a
      // state at least as new as the record (the record, or a later change, applied) settles it.
      let newKey: Item;
      try {
        newKey = assertItem(m.mapKey(legacyKey), 'mapKey result');
      } catch (err) {
        return still(`mapKey failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      }
      const stored = await deps.readNew(newKey);
      const seq = stored && sequenceOf(stored, names);
      if (seq !== undefined && compareSequence(seq, waivedSeq) >= 0)
        return settle(PoisonResolution.PRESENT_IN_NEW, 'presentInNew');
      if (seq !== undefined)
        return still(
          `the new table holds an older state of the key (_dr_seq ${seq}) than the waived record ${waivedSeq}: ` +
            'run verification with repair for it, then retry or waive the key',
        );
    }
    const legacy = await deps.readLegacy(legacyKey);
    if (!legacy) return settle(PoisonResolution.ABSENT_IN_LEGACY, 'absentInLegacy');
    const mapped = mapForBackfill(m, legacy, by.at);
    if ('reason' in mapped) return still(mapped.reason);
    const [o] = await deps.writer.writeAll([mapped.item], policy);
    if (o?.kind === 'copied') return settle(PoisonResolution.COPIED, 'copied');
    if (o?.kind === 'exists' && !waivedSeq) return settle(PoisonResolution.PRESENT_IN_NEW, 'presentInNew');
    if (o?.kind === 'exists')
      return still('a change of the key reached the new table during the retry; retry again');
    if (o?.kind === 'foreign' && policy === ForeignItems.KEEP)
      return settle(PoisonResolution.KEPT_FOREIGN, 'keptForeign');
    if (o?.kind === 'foreign') return still(foreignRefusedReason(canonicalItem(mapped.key)));
    return still(`write refused: ${o?.kind === 'failed' ? o.reason : 'no outcome'}`);
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
      notFound: 0,
    };
    let more = false;
    let state: MigrationState | undefined;
    if (p.operation === 'retry') {
      const current = await deps.store.getState();
      const policy = parseForeignItems(p.foreignItems, current?.backfill.foreignItems ?? ForeignItems.REFUSE);
      const pending = await deps.poison.unresolved();
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
    } else if (p.operation === 'waive') {
      const pending = await deps.poison.unresolved();
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
    const left = await deps.poison.unresolved();
    return {
      operation: p.operation,
      ...tally,
      more,
      ...(state ? { status: state.backfill.status } : {}),
      unresolvedCount: left.length,
      unresolved: left.slice(0, MAX_LISTED_KEYS).map((r) => ({
        key: r.key,
        reason: r.reason,
        origin: r.origin ?? PoisonOrigin.BACKFILL,
        ...(r.sequenceNumber ? { sequenceNumber: r.sequenceNumber } : {}),
      })),
    };
  };
}
