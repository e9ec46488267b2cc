/**
 * The example migration (and the default of local mode and the tests): a legacy `users` table keyed
 * by `userId` moves to a single-table design keyed by `PK = USER#<userId>`, `SK = PROFILE`.
 * `fullName` is renamed `displayName`; the nested `address` map moves under `profile.address`;
 * every other attribute is carried over untouched. `unmapItem` returns the legacy shape exactly.
 */
import { type AttributeValue, type Item, defineMigration } from '../../core';
import { FIDELITY_ATTRIBUTES } from '../../local/fidelity-corpus';

const USER_PREFIX = 'USER#';
const PROFILE = 'PROFILE';

function stringOf(item: Item, name: string): string {
  const v = item[name];
  if (v === undefined || !('S' in v)) throw new TypeError(`expected string attribute "${name}"`);
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
    const { userId: _userId, fullName, address, ...rest } = legacy;
    // `profile` is where `address` moves to; a legacy item that already has one would lose data, so it is
    // refused (the pipeline dead-letters it with this reason) rather than silently overwritten.
    if (rest.profile !== undefined)
      throw new TypeError('legacy item has a "profile" attribute, which this mapping reserves');
    const out: Record<string, AttributeValue> = {
      PK: { S: USER_PREFIX + stringOf(legacy, 'userId') },
      SK: { S: PROFILE },
    };
    Object.assign(out, rest);
    if (fullName !== undefined) out.displayName = fullName;
    if (address !== undefined) out.profile = { M: { address } };
    return out;
  },
  unmapItem: (item) => {
    const { PK, SK: _sk, displayName, profile, ...rest } = item;
    if (PK === undefined || !('S' in PK) || !PK.S.startsWith(USER_PREFIX)) {
      throw new TypeError('expected PK = USER#<userId>');
    }
    const out: Record<string, AttributeValue> = { userId: { S: PK.S.slice(USER_PREFIX.length) } };
    Object.assign(out, rest);
    if (displayName !== undefined) out.fullName = displayName;
    if (profile !== undefined && 'M' in profile && profile.M.address !== undefined)
      out.address = profile.M.address;
    else if (profile !== undefined) out.profile = profile;
    return out;
  },
  samples: [
    { userId: { S: 'u-1' }, fullName: { S: 'Ada Lovelace' }, address: { M: { city: { S: 'London' } } } },
    { userId: { S: 'u-2' }, ...FIDELITY_ATTRIBUTES },
  ],
  read: { stalenessBudgetMs: 5000 },
});
