/**
 * Issue 2, item 7: the fidelity corpus written to DynamoDB Local and read back through the project's
 * value handling (SDK boundary, DynamoDB JSON codec) and the example transform and its inverse.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { fromSdkItem, toSdkItem } from '../../../adapters/dynamodb';
import { createTable } from '../../../adapters/tables';
import {
  type Item,
  canonical,
  canonicalItem,
  itemFromDynamoJson,
  itemToDynamoJson,
  keyOf,
} from '../../../core';
import { usersMigration as m } from '../../../examples/users/migration';
import { FIDELITY_ATTRIBUTES } from '../../../examples/fidelity-corpus';
import { testClient, uniqueName } from '../../helpers/dynamo';

/** Numbers in the corpus already in DynamoDB's normalized form must come back as the very same string. */
function numberStrings(item: Item): string[] {
  return JSON.stringify(itemToDynamoJson(item)).match(/"N":"[^"]*"/g) ?? [];
}

describe('Integration: value fidelity through DynamoDB Local', () => {
  let client: DynamoDBClient;
  const legacy = uniqueName('fidelity-legacy');
  const target = uniqueName('fidelity-new');

  beforeAll(async () => {
    client = testClient();
    await createTable(client, legacy, m.legacyTable.key);
    await createTable(client, target, m.newTable.key);
  });
  afterAll(() => client.destroy());

  async function roundTrip(table: string, item: Item, key: Item): Promise<Item> {
    await client.send(new PutItemCommand({ TableName: table, Item: toSdkItem(item) }));
    const got = await client.send(
      new GetItemCommand({ TableName: table, Key: toSdkItem(key), ConsistentRead: true }),
    );
    if (!got.Item) throw new Error(`item vanished from ${table}`);
    return fromSdkItem(got.Item);
  }

  it('legacy → mapItem → new → DynamoDB JSON → unmapItem gives back the legacy item exactly', async () => {
    // Prepare
    const original: Item = {
      userId: { S: 'user-fidelity' },
      fullName: { S: 'Grace Hopper' },
      address: {
        M: {
          city: { S: 'Arlington' },
          zip: { N: '22201' },
          geo: { L: [{ N: '38.8816' }, { N: '-77.0910' }] },
        },
      },
      ...FIDELITY_ATTRIBUTES,
    };

    // Act
    const fromLegacy = await roundTrip(legacy, original, { userId: original.userId! });
    const mapped = m.mapItem(fromLegacy);
    const fromNew = await roundTrip(target, mapped, keyOf(mapped, m.newTable.key));
    const overTheWire = itemFromDynamoJson(JSON.parse(JSON.stringify(itemToDynamoJson(fromNew))));
    const back = m.unmapItem(overTheWire);

    // Assess: equal as DynamoDB values (sets unordered, numbers by value) ...
    expect(canonicalItem(fromLegacy)).toBe(canonicalItem(original));
    expect(canonicalItem(back)).toBe(canonicalItem(fromLegacy));
    // ... byte-for-byte where DynamoDB keeps the text, and identical in DynamoDB JSON after the trip.
    expect(numberStrings(back).sort()).toEqual(numberStrings(fromLegacy).sort());
    expect(back.big).toEqual({ N: '12345678901234567890123456789012345678' });
    expect(back.moreThanDouble).toEqual({ N: '9007199254740993' });
    expect(back.bigNegative).toEqual({ N: '-99999999999999999999999999999999999999' });
    expect(Buffer.from((back.binary as { B: Uint8Array }).B)).toEqual(
      Buffer.from(new Uint8Array(256).map((_, i) => i)),
    );
    expect(back.emptyBinary).toEqual({ B: new Uint8Array(0) });
    expect(back.nothing).toEqual({ NULL: true });
    expect(back.empty).toEqual({ S: '' });
    expect(back.emptyList).toEqual({ L: [] });
    expect(back.emptyMap).toEqual({ M: {} });
    expect(back.address).toEqual(fromLegacy.address);
    expect(canonical(back.deep!)).toBe(canonical(original.deep!));
  });

  it('shows what DynamoDB itself normalizes, so no later comparison mistakes it for drift', async () => {
    const item: Item = { userId: { S: 'norm' }, n: { N: '1.50' }, e: { N: '1E3' } };
    const got = await roundTrip(legacy, item, { userId: { S: 'norm' } });
    // DynamoDB stores numbers by value; canonical() compares by value, so both forms are equal.
    expect(canonicalItem(got)).toBe(canonicalItem(item));
  });
});
