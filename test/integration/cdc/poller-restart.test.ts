/**
 * The local event source keeps its per-shard positions across `stop()`/`start()`: records written
 * while it was stopped, or still buffered when it stopped, are delivered after the restart (as a
 * Lambda event source mapping that is disabled and re-enabled resumes from its checkpoint).
 */
import { type DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ControlItemCdcSwitch } from '../../../adapters/cdc-switch';
import { ControlStore } from '../../../adapters/control-store';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import type { CdcConsumerDoc } from '../../../core/cdc';
import { ControlKey } from '../../../core/control';
import { defineMigration } from '../../../core/model';
import { type LocalCdc, type LocalCdcOptions, startLocalCdc } from '../../../local/local-cdc';
import { testClient, testEndpoint, uniqueName } from '../../helpers/dynamo';
import { waitUntil } from '../../helpers/wait';

describe('Class: StreamPoller (restart)', () => {
  let client: DynamoDBClient;
  let cdc: LocalCdc | undefined;

  beforeAll(() => {
    client = testClient();
  });
  afterAll(async () => {
    await cdc?.poller.stop();
    client.destroy();
  });

  /**
   * Tables `<id>-legacy` (with a stream), `<id>-new` and `<id>-control` of a migration `id` keyed by the
   * string `id`, and local CDC over them with the `poller` settings (kept in `cdc` for the clean-up).
   */
  async function withCdc(id: string, poller: LocalCdcOptions['poller']) {
    const legacy = uniqueName(`${id}-legacy`);
    const target = uniqueName(`${id}-new`);
    const control = uniqueName(`${id}-control`);
    const migration = defineMigration({
      id,
      legacyTable: { tableName: legacy, key: { partitionKey: { name: 'id', type: 'S' } } },
      newTable: { tableName: target, key: { partitionKey: { name: 'id', type: 'S' } } },
    });
    const { streamArn } = await createTable(client, legacy, migration.legacyTable.key, { stream: true });
    await createTable(client, target, migration.newTable.key);
    await createTable(client, control, CONTROL_TABLE_KEY);
    cdc = await startLocalCdc({
      endpoint: testEndpoint(),
      migration,
      streamArn: streamArn!,
      controlTableName: control,
      poller,
    });
    return { legacy, target, control, pipeline: cdc };
  }

  it('delivers records written while stopped and those in flight at stop time, exactly once in effect', async () => {
    // Prepare
    const errors: unknown[] = [];
    const { legacy, target, pipeline } = await withCdc('restart', {
      batchSize: 25,
      pollIntervalMs: 20,
      onError: (e: unknown) => errors.push(e),
    });
    const put = (i: number) =>
      client.send(
        new PutItemCommand({ TableName: legacy, Item: { id: { S: `k${i}` }, n: { N: String(i) } } }),
      );

    // Act: stop while writes are still arriving, write more while stopped, restart.
    const inFlight = Array.from({ length: 300 }, (_, i) => put(i));
    await new Promise((r) => setTimeout(r, 100));
    await pipeline.poller.stop();
    await Promise.all(inFlight);
    for (let i = 300; i < 400; i++) await put(i);
    await pipeline.poller.start();
    await pipeline.poller.drain();

    // Assess
    const scan = await client.send(
      new ScanCommand({ TableName: target, Select: 'COUNT', ConsistentRead: true }),
    );
    expect(scan.Count).toBe(400);
    expect(errors).toEqual([]);
    expect(pipeline.deadLetters.entries).toHaveLength(0);
  }, 60_000);

  it('obeys the CDC switch another process writes: stops and registers Disabled, then reads on when enabled', async () => {
    // Prepare
    await cdc?.poller.stop();
    const { legacy, target, control, pipeline } = await withCdc('switch', {
      pollIntervalMs: 20,
      heartbeatMs: 100,
      switchCheckMs: 50,
    });
    const store = new ControlStore(client, control, 'switch');
    const sw = new ControlItemCdcSwitch(store, 'test');
    const put = (i: number) =>
      client.send(new PutItemCommand({ TableName: legacy, Item: { id: { S: `k${i}` } } }));
    const count = async () =>
      (await client.send(new ScanCommand({ TableName: target, Select: 'COUNT', ConsistentRead: true })))
        .Count ?? 0;
    const consumer = () => store.get<CdcConsumerDoc>(ControlKey.CDC_CONSUMER);
    for (let i = 0; i < 10; i++) await put(i);
    await pipeline.poller.drain();
    expect(await sw.enabled()).toBe(true);

    // Act: disabled by the switch; writes while disabled; a heartbeat later, enabled again.
    await sw.disable('cutover');
    await waitUntil('the poller registered Disabled', async () => (await consumer())?.state === 'Disabled', {
      intervalMs: 20,
    });
    for (let i = 10; i < 30; i++) await put(i);
    const beat = (await consumer())?.heartbeatAt ?? 0;
    await waitUntil('a heartbeat while disabled', async () => ((await consumer())?.heartbeatAt ?? 0) > beat, {
      intervalMs: 20,
    });
    const whileDisabled = await count();
    const enabledWhileDisabled = await sw.enabled();
    await sw.enable('abort');
    await waitUntil('the poller registered Enabled', async () => (await consumer())?.state === 'Enabled', {
      intervalMs: 20,
    });
    await pipeline.poller.drain();

    // Assess
    expect(enabledWhileDisabled).toBe(false);
    expect(whileDisabled).toBe(10);
    expect(await count()).toBe(30);
  }, 60_000);
});
