import { BatchGetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { KeyReader, UnprocessedKeysError, keyId } from '../../adapters/verify-io';
import type { Item } from '../../core/values';

const key = (i: number): Item => ({ PK: { S: `USER#${i}` }, SK: { S: 'PROFILE' } });

describe('Class: KeyReader', () => {
  const ddb = mockClient(DynamoDBClient);
  const sleeps: number[] = [];
  const timing = {
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    backoff: { baseMs: 10, capMs: 1_000, maxAttempts: 4 },
  };
  beforeEach(() => {
    ddb.reset();
    sleeps.splice(0);
  });

  it('looks keys up in chunks of 100 and retries unprocessed keys with backoff', async () => {
    // Prepare: 250 distinct keys (plus a duplicate); the first request leaves 10 keys unprocessed
    const keys = [...Array.from({ length: 250 }, (_, i) => key(i)), key(3)];
    let first = true;
    ddb.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: Item[] }> }) => {
      const asked = input.RequestItems.t?.Keys ?? [];
      const unprocessed = first ? asked.slice(0, 10) : [];
      first = false;
      const served = asked.slice(unprocessed.length);
      return {
        Responses: { t: served.map((k) => ({ ...k, v: { S: 'x' } })) },
        ...(unprocessed.length ? { UnprocessedKeys: { t: { Keys: unprocessed } } } : {}),
      };
    });
    const reader = new KeyReader(new DynamoDBClient({}), 't', ['PK', 'SK'], { timing, concurrency: 1 });

    // Act
    const found = await reader.batchGet(keys, true);

    // Assess
    const calls = ddb.commandCalls(BatchGetItemCommand);
    expect(calls.map((c) => c.args[0].input.RequestItems?.t?.Keys?.length)).toEqual([100, 10, 100, 50]);
    expect(calls.every((c) => c.args[0].input.RequestItems?.t?.ConsistentRead === true)).toBe(true);
    expect(found.size).toBe(250);
    expect(found.get(keyId(key(7)))).toEqual({ ...key(7), v: { S: 'x' } });
    expect(sleeps).toEqual([5]);
  });

  it('gives up with UnprocessedKeysError when keys stay unprocessed', async () => {
    // Prepare
    ddb.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: Item[] }> }) => ({
      Responses: { t: [] },
      UnprocessedKeys: { t: { Keys: input.RequestItems.t?.Keys ?? [] } },
    }));
    const reader = new KeyReader(new DynamoDBClient({}), 't', ['PK', 'SK'], { timing });

    // Act / Assess
    await expect(reader.batchGet([key(1)], false)).rejects.toThrow(UnprocessedKeysError);
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(4);
  });
});
