import {
  BatchGetItemCommand,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactWriteItemsCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ControlStore } from '../../../adapters/control-store';
import { KeyReader, UnprocessedKeysError, keyId, transactRepair } from '../../../adapters/verify-io';
import { repairCondition, RepairTransactionError } from '../../../core/verify';
import { metadataNames, type Item } from '../../../core/model';
import { recordedTiming } from '../../helpers/recorded-timing';

const key = (i: number): Item => ({ PK: { S: `USER#${i}` }, SK: { S: 'PROFILE' } });

describe('Class: KeyReader', () => {
  const ddb = mockClient(DynamoDBClient);
  const { sleeps, timing } = recordedTiming(4);
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

describe('Function: transactRepair', () => {
  const ddb = mockClient(DynamoDBClient);
  const { sleeps, timing } = recordedTiming(3);
  const store = new ControlStore(new DynamoDBClient({}), 'control', 'users');
  const write = {
    item: { ...key(1), v: { S: 'fixed' }, _dr_seq: { S: '9'.padStart(40, '0') } },
    condition: repairCondition('9'.padStart(40, '0'), metadataNames('_dr_')),
    audit: {
      migrationId: 'users',
      at: Date.UTC(2030, 0, 1),
      actor: 'verify:r',
      action: 'verify-repair',
      reason: 'test',
    },
    auditId: 'audit-1',
  };
  const cancelled = (...codes: string[]) =>
    new TransactionCanceledException({
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  const client = () => new DynamoDBClient({});
  beforeEach(() => {
    ddb.reset();
    sleeps.splice(0);
  });

  it('writes the repair and its audit record in one transaction, the audit only where none exists', async () => {
    // Prepare
    ddb.on(TransactWriteItemsCommand).resolves({});

    // Act
    const out = await transactRepair(client(), 'app-data', store, write, timing);

    // Assess
    expect(out).toBe('written');
    const calls = ddb.commandCalls(TransactWriteItemsCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.ClientRequestToken).toBe('audit-1');
    expect(input.TransactItems).toEqual([
      {
        Put: expect.objectContaining({
          TableName: 'app-data',
          ConditionExpression: '#seq = :found',
          ExpressionAttributeNames: { '#seq': '_dr_seq' },
          ExpressionAttributeValues: { ':found': { S: '9'.padStart(40, '0') } },
        }),
      },
      {
        Put: expect.objectContaining({
          TableName: 'control',
          ConditionExpression: 'attribute_not_exists(pk)',
          Item: expect.objectContaining({
            pk: { S: 'MIGRATION#users' },
            sk: { S: 'AUDIT#2030-01-01T00:00:00.000Z#audit-1' },
            action: { S: 'verify-repair' },
          }),
        }),
      },
    ]);
  });

  it("reports lost-to-cdc when the repair's own condition failed", async () => {
    // Prepare
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));

    // Act / Assess
    await expect(transactRepair(client(), 'app-data', store, write, timing)).resolves.toBe('lost');
  });

  it.each([
    [
      'the audit record exists',
      ['None', 'ConditionalCheckFailed'],
      /repair None, audit ConditionalCheckFailed/,
    ],
    ['the item is invalid', ['ValidationError', 'None'], /repair ValidationError, audit None/],
  ])('fails with RepairTransactionError when %s (nothing was written)', async (_n, codes, message) => {
    // Prepare
    ddb.on(TransactWriteItemsCommand).rejects(cancelled(...codes));

    // Act
    const out = transactRepair(client(), 'app-data', store, write, timing);

    // Assess
    await expect(out).rejects.toThrow(RepairTransactionError);
    await expect(out).rejects.toThrow(message);
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(1);
  });

  it('retries a conflict as a new transaction, and throttling with the same token', async () => {
    // Prepare: throttled once (the request may or may not have committed), then a conflict, then written
    ddb
      .on(TransactWriteItemsCommand)
      .rejectsOnce(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }))
      .rejectsOnce(cancelled('TransactionConflict', 'None'))
      .resolves({});

    // Act
    const out = await transactRepair(client(), 'app-data', store, write, timing);

    // Assess
    expect(out).toBe('written');
    const tokens = ddb.commandCalls(TransactWriteItemsCommand).map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(3);
    expect(tokens[0]).toBe('audit-1');
    expect(tokens[1]).toBe('audit-1');
    expect(tokens[2]).not.toBe('audit-1');
    expect(sleeps).toHaveLength(2);
  });

  it('gives up on conflicts after the last attempt with RepairTransactionError', async () => {
    // Prepare
    ddb.on(TransactWriteItemsCommand).rejects(cancelled('TransactionConflict', 'None'));

    // Act / Assess
    await expect(transactRepair(client(), 'app-data', store, write, timing)).rejects.toThrow(
      /repair TransactionConflict, audit None/,
    );
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(3);
  });
});
