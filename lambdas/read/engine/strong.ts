/**
 * The strong path of the read engine: both stores are read and waited for; new serves only when its
 * item equals legacy's (`STRONG_EQUAL`), else legacy does. A failure of new falls back to legacy.
 */
import type { Item } from '../../../core/model';
import { type Admitted, Store, compareItems, decideRoute } from '../../../core/read';
import { type ReadStores, fromLegacy, fromNew } from './stores';
import type { KeyResult } from './types';

/** Reads one key in strong mode (the admitted decision, before reading, is `STRONG_PENDING`). */
export async function readStrong(
  stores: ReadStores,
  legacyKey: Item,
  newKey: Item,
  { decision: first, admission, input }: Admitted,
): Promise<KeyResult> {
  const [legacy, fresh] = await Promise.all([
    stores.readLegacy(legacyKey),
    stores.readNew(newKey, admission),
  ]);
  if (!legacy.ok) return fromLegacy(legacy, first, false, false);
  if (fresh.kind === 'failed' || fresh.kind === 'unmappable')
    return fromLegacy(legacy, decideRoute({ ...input, newRead: 'failed' }), true, false);
  const freshItem = fresh.kind === 'present' ? fresh.item : undefined;
  const equal = compareItems(legacy.item, freshItem) === 'match';
  const decision = decideRoute({
    ...input,
    newRead: fresh.kind,
    comparison: equal ? 'equal' : 'different',
  });
  if (decision.route === Store.NEW) return fromNew(fresh, decision);
  return fromLegacy(legacy, decision, false, false);
}
