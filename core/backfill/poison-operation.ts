/**
 * The decisions of the `poison` function, the operator's operations on unresolved keys
 * (core/backfill/poison.ts): which inputs it accepts, and how a retry settles a key from what the
 * new table holds and from its write under rule 3.
 */
import { ForeignItems } from '../control';
import {
  type Item,
  type JsonItem,
  type KeySchema,
  canonicalItem,
  compareSequence,
  itemFromDynamoJson,
  keyNames,
  keyOf,
} from '../model';
import { BackfillInputError } from './errors';
import { parseForeignItems } from './foreign';
import { PoisonResolution } from './poison';
import { type WriteOutcome, countWrite } from './write-outcome';

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
    }
  | {
      /** Pin unresolved keys to legacy: not migrated yet, served by legacy (core/backfill/poison.ts). */
      readonly operation: 'pin';
      readonly actor: string;
      /** Why these keys stay on legacy for now (the audit record). */
      readonly reason: string;
      /** Legacy keys, DynamoDB JSON; or `all`: every unresolved key. */
      readonly keys: readonly JsonItem[] | 'all';
    };

/**
 * Checks the input of the `poison` function against the legacy table's key schema.
 *
 * @throws BackfillInputError naming what is missing or wrong
 */
export function checkPoisonPayload(p: PoisonPayload, legacyKey: KeySchema): void {
  const op = (p as { operation?: unknown })?.operation;
  if (op !== 'list' && op !== 'retry' && op !== 'waive' && op !== 'pin')
    throw new BackfillInputError(
      `operation must be 'list', 'retry', 'waive' or 'pin', not ${JSON.stringify(op)}`,
    );
  if (p.operation === 'list') return;
  if (typeof p.actor !== 'string' || p.actor.trim() === '')
    throw new BackfillInputError(`${p.operation} needs an actor (who does it: the audit record names them)`);
  if (p.operation === 'retry') {
    parseForeignItems(p.foreignItems, ForeignItems.REFUSE);
    return;
  }
  if (typeof p.reason !== 'string' || p.reason.trim() === '')
    throw new BackfillInputError(
      p.operation === 'pin'
        ? 'pin needs a reason (why these keys stay on legacy for now)'
        : 'waive needs a reason (why these keys need not be in the new table)',
    );
  if (p.operation === 'pin' && p.keys === 'all') return;
  if (!Array.isArray(p.keys) || p.keys.length === 0 || p.keys.length > 1000)
    throw new BackfillInputError(
      `${p.operation} needs keys: 1 to 1000 legacy keys in DynamoDB JSON${p.operation === 'pin' ? ", or 'all'" : ''}`,
    );
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

/** What a retry counts for a key it examined. */
export type RetryCount = 'copied' | 'presentInNew' | 'absentInLegacy' | 'keptForeign' | 'stillPoison';

/** How a retry settles a key: resolved (and counted as `count`), or still poison with the latest reason. */
export type RetrySettlement =
  { readonly resolution: PoisonResolution; readonly count: RetryCount } | { readonly stillPoison: string };

const PRESENT_IN_NEW: RetrySettlement = {
  resolution: PoisonResolution.PRESENT_IN_NEW,
  count: 'presentInNew',
};

/**
 * A waived stream record's key, by the `_dr_seq` of what the new table holds for it: the record's
 * change may be missing while an older state of the key is in new, so only a state at least as new as
 * the record (the record, or a later change, applied) settles it. Undefined when new holds nothing for
 * the key (the retry copies the legacy item).
 */
export function settleWaivedRecord(
  storedSeq: string | undefined,
  waivedSeq: string,
): RetrySettlement | undefined {
  if (storedSeq === undefined) return undefined;
  if (compareSequence(storedSeq, waivedSeq) >= 0) return PRESENT_IN_NEW;
  return {
    stillPoison:
      `the new table holds an older state of the key (_dr_seq ${storedSeq}) than the waived record ${waivedSeq}: ` +
      'run verification with repair for it, then retry or waive the key',
  };
}

/**
 * How a retry's write of the legacy item (mapped to `newKey`) settles the key. For a waived record's
 * key an item dualread wrote meanwhile is a change that reached new during the retry, not proof.
 */
export function settleRetryWrite(
  outcome: WriteOutcome | undefined,
  foreignItems: ForeignItems,
  newKey: Item,
  waivedRecord: boolean,
): RetrySettlement {
  if (!outcome) return { stillPoison: 'write refused: no outcome' };
  const written = countWrite(outcome, foreignItems, newKey);
  if ('poison' in written) return { stillPoison: written.poison };
  if (written.count === 'copied') return { resolution: PoisonResolution.COPIED, count: 'copied' };
  if (written.count === 'keptForeign')
    return { resolution: PoisonResolution.KEPT_FOREIGN, count: 'keptForeign' };
  if (!waivedRecord) return PRESENT_IN_NEW;
  return { stillPoison: 'a change of the key reached the new table during the retry; retry again' };
}
