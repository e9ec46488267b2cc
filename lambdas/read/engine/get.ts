/**
 * The single-key path of the read engine: decide (with the breaker's admission), then read where the
 * decision says. Legacy serves directly (with a shadow read of new when sampled, `shadow.ts`); strong
 * reads both (`strong.ts`); new serves with a hedged legacy read after the hedge delay, and the
 * decision is made again with what new found (presence, failure), falling back to legacy.
 */
import { type AttributeValue, type Item, type Migration, canonical } from '../../../core/model';
import {
  type Admitted,
  Store,
  admitRoute,
  decideRoute,
  hedgedToLegacy,
  newIsSoleStore,
} from '../../../core/read';
import { BadRequestError } from '../validation';
import { type ReaderParts, keyRouteInput, routeInput } from './decision';
import { type LegacyOutcome, type ReadStores, fromLegacy, fromNew, newReadOf } from './stores';
import { readStrong } from './strong';
import type { KeyResult, RequestContext } from './types';

/** The key in new: the migration's `mapKey`, whose failure is a 400 naming it. */
function newKeyOf(migration: Migration, legacyKey: Item): Item {
  try {
    return migration.mapKey(legacyKey);
  } catch (err) {
    throw new BadRequestError(
      `the key cannot be mapped to the new table's key: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** The default routing key: the legacy partition key value, canonically. */
function routingKeyOf(migration: Migration, legacyKey: Item): string {
  const pk = legacyKey[migration.legacyTable.key.partitionKey.name] as AttributeValue;
  return canonical(pk);
}

/** Reads one key by the routing decision. Never throws for store failures (503 when legacy cannot answer). */
export async function readKey(r: ReaderParts, legacyKey: Item, ctx: RequestContext): Promise<KeyResult> {
  const { migration } = r.target;
  const snap = await r.cache.get();
  const input0 = keyRouteInput(
    routeInput(migration, snap, ctx, routingKeyOf(migration, legacyKey), r.random(), r.now()),
    snap,
    legacyKey,
  );
  const admitted = admitRoute(input0, r.stores.breaker);
  const { decision, admission } = admitted;
  const newKey = decision.touchesNew ? newKeyOf(migration, legacyKey) : undefined;

  if (decision.readBoth) return readStrong(r.stores, legacyKey, newKey as Item, admitted);
  if (decision.route === Store.LEGACY) {
    const legacyReadAt = r.now();
    // The authority's request is sent first; the shadow read follows on the next turn of the event
    // loop, so its request building never delays the answer (both are then in flight together).
    const legacyP = r.stores.readLegacy(legacyKey);
    const newP = decision.shadow ? r.shadow.readNew(newKey as Item, admission) : undefined;
    const legacy = await legacyP;
    if (newP) r.shadow.compare(legacyKey, newKey as Item, legacyReadAt, legacy, newP);
    return fromLegacy(legacy, decision, false, false);
  }
  return serveNew(r.stores, legacyKey, newKey as Item, admitted);
}

/** New serves (to be confirmed): a hedged legacy read after the hedge delay may answer first. */
async function serveNew(
  stores: ReadStores,
  legacyKey: Item,
  newKey: Item,
  { decision: first, admission, input }: Admitted,
): Promise<KeyResult> {
  const newP = stores.readNew(newKey, admission, newIsSoleStore(first));
  let legacyP: Promise<LegacyOutcome> | undefined;
  if (first.hedge) {
    const delay = stores.hedgeAfter();
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<'timer'>((resolve) => {
      timer = setTimeout(() => resolve('timer'), delay);
    });
    const winner = await Promise.race([newP.then(() => 'new' as const), elapsed]);
    clearTimeout(timer);
    if (winner === 'timer') {
      legacyP = stores.readLegacy(legacyKey);
      // Whichever gives a usable answer first: new if it is servable, else legacy.
      const raced = await Promise.race([
        newP.then((o) => ({ from: 'new' as const, o })),
        legacyP.then((l) => ({ from: 'legacy' as const, l })),
      ]);
      if (raced.from === 'legacy' && raced.l.ok) {
        return fromLegacy(raced.l, hedgedToLegacy(first), true, true);
      }
    }
  }
  const outcome = await newP;
  const decision = decideRoute({ ...input, newRead: newReadOf(outcome) });
  if (decision.route === Store.NEW) return fromNew(outcome, decision);
  legacyP ??= stores.readLegacy(legacyKey);
  return fromLegacy(await legacyP, decision, true, false);
}
