/**
 * The local "CDC consuming" check (`ControlItemCdcStatus`) on DynamoDB Local with the real local
 * event source and sync handler: it reads the poller's heartbeat item and the legacy table's current
 * stream, and refuses when the poller reads a stream the table no longer writes to, or when its last
 * delivery failed.
 */
import { PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { ControlItemCdcStatus } from '../../../adapters/cdc-status';
import { ControlStore } from '../../../adapters/control-store';
import { toSdkItem } from '../../../adapters/dynamodb';
import { type CdcConsumerDoc, ControlKey } from '../../../core';
import { cdcPipelines, createUsersTables, startUsersCdc } from '../../helpers/users-tables';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Integration: the local CDC check on DynamoDB Local', () => {
  const { client, pipelines } = cdcPipelines();

  async function setUp(tag: string) {
    const tables = await createUsersTables(client, tag);
    const { migration, streamArn, controlTableName: control } = tables;
    const legacy = migration.legacyTable.tableName;
    const cdc = await startUsersCdc(tables, {
      poller: { heartbeatMs: 100, pollIntervalMs: 20, maxRetryAttempts: 0 },
    });
    pipelines.push(cdc);
    const store = new ControlStore(client, control, migration.id);
    const status = new ControlItemCdcStatus(store, () => Date.now(), {
      dynamo: client,
      legacyTableName: legacy,
    });
    /** Waits until the poller's heartbeat item satisfies `done` (a condition, not a delay). */
    const heartbeat = async (done: (d: CdcConsumerDoc) => boolean) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const doc = await store.get<CdcConsumerDoc>(ControlKey.CDC_CONSUMER);
        if (doc && done(doc)) return doc;
        if (Date.now() > deadline) throw new Error(`heartbeat never matched: ${JSON.stringify(doc)}`);
        await sleep(20);
      }
    };
    return { migration, legacy, streamArn, cdc, status, heartbeat };
  }

  it('says consuming for a healthy poller on the current stream, with its last result and iterator age', async () => {
    // Prepare
    const env = await setUp('cdcs-ok');
    await client.send(
      new PutItemCommand({ TableName: env.legacy, Item: toSdkItem({ userId: { S: 'a' }, v: { N: '1' } }) }),
    );
    await env.cdc.poller.drain();
    await env.heartbeat((d) => d.lastProcessingResult === 'OK');

    // Act
    const out = await env.status.check();

    // Assess
    expect(out).toEqual({ consuming: true, reason: expect.stringMatching(/consuming .* from TRIM_HORIZON/) });
  });

  it('refuses when the stream was disabled and enabled again (the poller reads the old one)', async () => {
    // Prepare
    const env = await setUp('cdcs-new');
    await client.send(
      new UpdateTableCommand({ TableName: env.legacy, StreamSpecification: { StreamEnabled: false } }),
    );
    const again = await client.send(
      new UpdateTableCommand({
        TableName: env.legacy,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const latest = again.TableDescription?.LatestStreamArn as string;
    expect(latest).not.toBe(env.streamArn);

    // Act
    const out = await env.status.check();

    // Assess
    expect(out.consuming).toBe(false);
    expect(out.reason).toContain(`${env.streamArn} is not the table's current stream ${latest}`);
  });

  it('refuses while the last delivery failed', async () => {
    // Prepare: a record the mapping refuses (the example reserves "profile")
    const env = await setUp('cdcs-fail');
    await client.send(
      new PutItemCommand({
        TableName: env.legacy,
        Item: toSdkItem({ userId: { S: 'poison' }, profile: { S: 'taken' } }),
      }),
    );
    await env.heartbeat((d) => (d.lastProcessingResult ?? '').startsWith('PROBLEM'));

    // Act
    const out = await env.status.check();

    // Assess
    expect(out.consuming).toBe(false);
    expect(out.reason).toMatch(/last processing result of the stream poller is "PROBLEM: /);
  });
});
