/**
 * The example migration (and the default of local mode and the tests): a legacy `users` table keyed
 * by `userId` moves to a single-table design keyed by `PK = USER#<userId>`, `SK = PROFILE`.
 * `fullName` is renamed `displayName`; the nested `address` map moves under `profile.address`;
 * every other attribute is carried over untouched.
 *
 * Query surfaces: clients query the legacy GSI `users-by-email` (partition key `email`). In the new
 * design that access path is the overloaded `GSI1`: a user with a string `email` carries
 * `GSI1PK = EMAIL#<email>` and `GSI1SK = USER#<userId>`; other entity types may share GSI1, so the
 * `by-email` surface keeps only profiles (`SK = PROFILE`). The legacy index has no sort key, so the
 * surface's results compare as sets (`orderPreserved: false`).
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
const EMAIL_PREFIX = 'EMAIL#';
/** Names `mapItem` writes: a legacy item carrying one of them could not be given back exactly. */
const NEW_SHAPE_NAMES = ['PK', 'SK', 'displayName', 'profile', 'GSI1PK', 'GSI1SK'] as const;
/** Legacy names `mapItem` renames or moves: a new item carrying one was not made by `mapItem`. */
const LEGACY_ONLY_NAMES = ['userId', 'fullName', 'address'] as const;

function stringOf(item: Item, name: string): string {
  const v = item[name];
  if (v === undefined || !Object.hasOwn(item, name) || !('S' in v))
    throw new TypeError(`expected string attribute "${name}"`);
  return v.S;
}

/** GSI1's keys of a user: only a string `email` is indexed (legacy's index is sparse the same way). */
function emailIndexKeys(userId: string, email: AttributeValue | undefined): Array<[string, AttributeValue]> {
  if (email === undefined || !('S' in email)) return [];
  return [
    ['GSI1PK', { S: EMAIL_PREFIX + email.S }],
    ['GSI1SK', { S: USER_PREFIX + userId }],
  ];
}

export const usersMigration = defineMigration({
  id: 'users',
  legacyTable: {
    tableName: 'users',
    key: { partitionKey: { name: 'userId', type: 'S' } },
    indexes: [{ name: 'users-by-email', key: { partitionKey: { name: 'email', type: 'S' } } }],
  },
  newTable: {
    tableName: 'app-data',
    key: { partitionKey: { name: 'PK', type: 'S' }, sortKey: { name: 'SK', type: 'S' } },
    indexes: [
      {
        name: 'GSI1',
        key: { partitionKey: { name: 'GSI1PK', type: 'S' }, sortKey: { name: 'GSI1SK', type: 'S' } },
      },
    ],
  },
  queries: {
    'by-email': {
      legacyIndex: 'users-by-email',
      newIndex: 'GSI1',
      partition: (email) => ({ S: EMAIL_PREFIX + ('S' in email ? email.S : '') }),
      filter: (item) => item.SK !== undefined && 'S' in item.SK && item.SK.S === PROFILE,
    },
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
    const userId = stringOf(legacy, 'userId');
    const entries: Array<[string, AttributeValue]> = [
      ['PK', { S: USER_PREFIX + userId }],
      ['SK', { S: PROFILE }],
      ...Object.entries(rest),
      ...emailIndexKeys(userId, Object.hasOwn(legacy, 'email') ? legacy.email : undefined),
    ];
    if (fullName !== undefined) entries.push(['displayName', fullName]);
    if (address !== undefined) entries.push(['profile', { M: { address } }]);
    return Object.fromEntries(entries);
  },
  unmapItem: (item) => {
    const { PK, SK, displayName, profile, GSI1PK, GSI1SK, ...rest } = item;
    if (PK === undefined || !('S' in PK) || !PK.S.startsWith(USER_PREFIX))
      throw new TypeError(`new item has no PK = ${USER_PREFIX}<userId>, so this mapping did not write it`);
    if (SK === undefined || !('S' in SK) || SK.S !== PROFILE)
      throw new TypeError(`new item has no SK = ${PROFILE}, so this mapping did not write it`);
    const foreign = LEGACY_ONLY_NAMES.find((name) => Object.hasOwn(rest, name));
    if (foreign !== undefined)
      throw new TypeError(`new item has a "${foreign}" attribute, which this mapping never writes`);
    const userId = PK.S.slice(USER_PREFIX.length);
    const expected = emailIndexKeys(userId, Object.hasOwn(rest, 'email') ? rest.email : undefined);
    const got = [GSI1PK, GSI1SK].filter((v) => v !== undefined);
    if (
      got.length !== expected.length ||
      expected.some(([, v], i) => !(got[i] && 'S' in got[i] && 'S' in v && got[i].S === v.S))
    )
      throw new TypeError(
        'new item has GSI1PK/GSI1SK other than EMAIL#<email>/USER#<userId>, so this mapping did not write them',
      );
    const entries: Array<[string, AttributeValue]> = [['userId', { S: userId }], ...Object.entries(rest)];
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
    { userId: { S: 'u-3' }, email: { S: 'ada@example.com' }, fullName: { S: 'Ada L.' } },
    { userId: { S: 'u-4' }, email: { S: 'ada@example.com' } },
    { userId: { S: 'u-5' }, email: { S: 'grace@example.com' } },
  ],
  read: { stalenessBudgetMs: 5000 },
});
