/**
 * The example migration (and the default of local mode and the tests): a legacy `users` table keyed
 * by `userId` moves to a single-table design keyed by `PK = USER#<userId>`, `SK = PROFILE`.
 * `fullName` is renamed `displayName`; the nested `address` map moves under `profile.address`;
 * every other attribute is carried over untouched.
 *
 * A mapping must be invertible on every item it accepts: the read path answers with `unmapItem` of the
 * new item, and verification computes every new item's legacy origin with it. Renaming and moving
 * attributes makes names collide: a legacy item with its own `displayName` would come back as
 * `fullName`, and one with both would lose one of them. So `mapItem` refuses a legacy item that already
 * carries a name of the new shape (`PK`, `SK`, `displayName`, `profile`) with a reason (CDC dead-letters
 * it, the backfill records it as poison, verification counts it as unmappable), and `unmapItem` refuses
 * a new item that `mapItem` cannot have produced. Attributes are copied as own data properties
 * (`Object.fromEntries`), so even an attribute called `__proto__` survives.
 */
import { type AttributeValue, type Item, defineMigration } from '../../core';
import { FIDELITY_ATTRIBUTES } from '../fidelity-corpus';

const USER_PREFIX = 'USER#';
const PROFILE = 'PROFILE';
/** Names `mapItem` writes: a legacy item carrying one of them could not be given back exactly. */
const NEW_SHAPE_NAMES = ['PK', 'SK', 'displayName', 'profile'] as const;
/** Legacy names `mapItem` renames or moves: a new item carrying one was not made by `mapItem`. */
const LEGACY_ONLY_NAMES = ['userId', 'fullName', 'address'] as const;

function stringOf(item: Item, name: string): string {
  const v = item[name];
  if (v === undefined || !Object.hasOwn(item, name) || !('S' in v))
    throw new TypeError(`expected string attribute "${name}"`);
  return v.S;
}

export const usersMigration = defineMigration({
  id: 'users',
  legacyTable: { tableName: 'users', key: { partitionKey: { name: 'userId', type: 'S' } } },
  newTable: {
    tableName: 'app-data',
    key: { partitionKey: { name: 'PK', type: 'S' }, sortKey: { name: 'SK', type: 'S' } },
  },
  mapKey: (key) => ({ PK: { S: USER_PREFIX + stringOf(key, 'userId') }, SK: { S: PROFILE } }),
  mapItem: (legacy) => {
    const taken = NEW_SHAPE_NAMES.find((name) => Object.hasOwn(legacy, name));
    if (taken !== undefined)
      throw new TypeError(
        `legacy item has a "${taken}" attribute, which this mapping reserves for the new shape ` +
          `(${NEW_SHAPE_NAMES.join(', ')}); rename it in legacy or extend the mapping`,
      );
    const { userId: _userId, fullName, address, ...rest } = legacy;
    const entries: Array<[string, AttributeValue]> = [
      ['PK', { S: USER_PREFIX + stringOf(legacy, 'userId') }],
      ['SK', { S: PROFILE }],
      ...Object.entries(rest),
    ];
    if (fullName !== undefined) entries.push(['displayName', fullName]);
    if (address !== undefined) entries.push(['profile', { M: { address } }]);
    return Object.fromEntries(entries);
  },
  unmapItem: (item) => {
    const { PK, SK, displayName, profile, ...rest } = item;
    if (PK === undefined || !('S' in PK) || !PK.S.startsWith(USER_PREFIX))
      throw new TypeError(`new item has no PK = ${USER_PREFIX}<userId>, so this mapping did not write it`);
    if (SK === undefined || !('S' in SK) || SK.S !== PROFILE)
      throw new TypeError(`new item has no SK = ${PROFILE}, so this mapping did not write it`);
    const foreign = LEGACY_ONLY_NAMES.find((name) => Object.hasOwn(rest, name));
    if (foreign !== undefined)
      throw new TypeError(`new item has a "${foreign}" attribute, which this mapping never writes`);
    const entries: Array<[string, AttributeValue]> = [
      ['userId', { S: PK.S.slice(USER_PREFIX.length) }],
      ...Object.entries(rest),
    ];
    if (displayName !== undefined) entries.push(['fullName', displayName]);
    if (profile !== undefined) {
      const inner = 'M' in profile ? profile.M : undefined;
      const address = inner && Object.hasOwn(inner, 'address') ? inner.address : undefined;
      if (inner === undefined || address === undefined || Object.keys(inner).length !== 1)
        throw new TypeError(
          'new item has a "profile" other than { address }, so this mapping did not write it',
        );
      entries.push(['address', address]);
    }
    return Object.fromEntries(entries);
  },
  samples: [
    { userId: { S: 'u-1' }, fullName: { S: 'Ada Lovelace' }, address: { M: { city: { S: 'London' } } } },
    { userId: { S: 'u-2' }, ...FIDELITY_ATTRIBUTES },
  ],
  read: { stalenessBudgetMs: 5000 },
});
