/**
 * `dualread backfill …` (and later `verify`, `dlq`) in local mode against DynamoDB Local, through
 * `runCli` in process (and the AWS verification run with Step Functions mocked): the local runner copies the legacy table, the controls are audited changes of
 * STATE, and `backfill status --json` shows every segment done with its counts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ControlStore } from '../../../adapters/control-store';
import { isClean, runVerification } from '../../../adapters/verify-runs';
import { CONTROL_TABLE_KEY, createTable } from '../../../adapters/tables';
import { ExitCode } from '../../../cli/exit-codes';
import { streamDeadLetterBody } from '../../../core/cdc';
import { ControlKey } from '../../../core/control';
import { gapOpen, openGap } from '../../../core/frontier';
import { cliTarget, ordersDefinitions, pollerHeartbeat } from '../../helpers/cli';
import {
  countItems,
  enableStream,
  putItem,
  getItem,
  testClient,
  testEndpoint,
  uniqueName,
} from '../../helpers/dynamo';

describe('CLI: dualread backfill and verify (local mode, DynamoDB Local)', () => {
  const client = testClient();
  const control = uniqueName('runs-control');
  const legacy = uniqueName('runs-legacy');
  const fresh = uniqueName('runs-new');
  const store = new ControlStore(client, control, 'orders');
  let streamArn = '';

  const { dir, definitions, inProcess: cli } = cliTarget('runs', control);

  const pollerRunning = () => pollerHeartbeat(store, streamArn);

  beforeAll(async () => {
    writeFileSync(
      definitions,
      ordersDefinitions(legacy, fresh, '  backfill: { segments: 2, pageSize: 10 },\n'),
    );
    await createTable(client, control, CONTROL_TABLE_KEY);
    await createTable(client, legacy, { partitionKey: { name: 'id', type: 'S' } });
    await createTable(client, fresh, { partitionKey: { name: 'id', type: 'S' } });
    for (let i = 0; i < 40; i += 1)
      await putItem(client, legacy, {
        id: { S: `o-${i}` },
        total: { N: `${i}.000000000000000000000000000000001` },
      });
    streamArn = await enableStream(client, legacy);
  });
  afterAll(() => client.destroy());

  it('refuses to start while CDC is not consuming (exit 7, the preflight’s error and its fix)', async () => {
    const r = await cli('--json', 'backfill', 'start', '--run-id', 'bf-early');
    expect(r.code).toBe(ExitCode.RUN_FAILED);
    const doc = JSON.parse(r.stdout) as { error: { name: string; message: string } };
    expect(doc.error.name).toBe('RunFailedError');
    expect(doc.error.message).toMatch(/failed with CdcNotConsumingError/);
  });

  it('pauses, re-rates and resumes through audited changes, refusing a no-op with exit 4', async () => {
    const paused = await cli('--json', 'backfill', 'pause', '--reason', 'legacy hot');
    expect(paused.code).toBe(ExitCode.OK);
    expect(JSON.parse(paused.stdout)).toMatchObject({
      controls: { paused: true },
      audit: { action: 'pause' },
    });
    expect((await cli('backfill', 'pause')).code).toBe(ExitCode.USAGE);
    const rated = await cli('--json', 'backfill', 'rate', '250');
    expect(JSON.parse(rated.stdout)).toMatchObject({ controls: { paused: true, rateLimitPerSecond: 250 } });
    expect((await cli('--json', 'backfill', 'rate', '-3')).code).toBe(ExitCode.USAGE);
    expect((await cli('--json', 'backfill', 'resume')).code).toBe(ExitCode.OK);
    expect((await store.getState())?.controls).toEqual({ paused: false, rateLimitPerSecond: 250 });
    const audit = JSON.parse((await cli('--json', 'audit')).stdout) as { records: Array<{ action: string }> };
    expect(audit.records.map((a) => a.action)).toEqual(['pause', 'rate', 'resume']);
  });

  it('runs a backfill locally to COMPLETE and shows every segment done', async () => {
    await pollerRunning();
    const r = await cli('--json', 'backfill', 'start', '--run-id', 'bf-1');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: ExitCode.OK, stderr: '' });
    expect(JSON.parse(r.stdout)).toMatchObject({ runId: 'bf-1', state: { status: 'COMPLETE' } });
    expect(await countItems(client, fresh)).toBe(40);

    const status = await cli('--json', 'backfill', 'status');
    const doc = JSON.parse(status.stdout) as {
      progress: { segmentsDone: number; totalSegments: number; scanned: number; fraction: number };
    };
    expect(doc.progress).toMatchObject({ segmentsDone: 2, totalSegments: 2, scanned: 40, fraction: 1 });
    const screen = JSON.parse((await cli('--json', 'status')).stdout) as Record<string, unknown>;
    expect(screen).toMatchObject({ backfillProgress: { segmentsDone: 2, fraction: 1 }, readMix: null });
    expect((await cli('status')).stdout).toMatch(/seg +1 █+ 100 %[^]*read mix: not measured locally/);
    const text = await cli('backfill', 'status');
    expect(text.stdout).toMatch(/backfill COMPLETE \(run bf-1\)/);
    expect(text.stdout).toMatch(/seg +0 █+ 100 %/);
  });

  it('verifies clean (exit 0), then finds drift (exit 6, counted by class), and repairs it', async () => {
    const clean = await cli('--json', 'verify', '--run-id', 'v-1');
    expect({ code: clean.code, stderr: clean.stderr }).toEqual({ code: ExitCode.OK, stderr: '' });
    expect(JSON.parse(clean.stdout)).toMatchObject({
      runId: 'v-1',
      clean: true,
      report: { status: 'COMPLETE' },
    });

    // Drift: an item of new changed behind dualread's back (its _dr_seq kept), and F past every re-check (no tracker runs here).
    const drifted = await getItem(client, fresh, { id: { S: 'o-7' } });
    await putItem(client, fresh, { ...drifted, total: { N: '-1' } });
    await store.putUnversioned(ControlKey.FRONTIER, {
      migrationId: 'orders',
      frontier: Date.now() + 600_000, // past the re-check's t1 plus the clock-skew margin
      computedAt: Date.now(),
      shards: [],
      version: 1,
    });
    const found = await cli('verify', '--run-id', 'v-2');
    expect(found.code).toBe(ExitCode.NOT_CLEAN);
    expect(found.stdout).toMatch(/verification v-2 NOT CLEAN/);
    expect(found.stdout).toMatch(/content-differs +1\n/);

    const repaired = await cli('--json', 'verify', '--repair', '--run-id', 'v-3');
    expect(JSON.parse(repaired.stdout)).toMatchObject({ report: { repair: true, repairs: { repaired: 1 } } });
    expect((await getItem(client, fresh, { id: { S: 'o-7' } }))?.total).toEqual({
      N: '7.000000000000000000000000000000001',
    });
    expect((await cli('verify', '--run-id', 'v-4')).code).toBe(ExitCode.OK);
  });

  it('recovers a stream gap: verifies with repair until clean, then closes the gap (audited); nothing to do after', async () => {
    // Arrange: what records trimmed before CDC read them leave: a stale item and a missing one in new,
    // F frozen (old) with the gap open, and the records after the horizon applied (cdcFrontier ahead).
    const stale = await getItem(client, fresh, { id: { S: 'o-9' } });
    await putItem(client, fresh, { ...stale, total: { N: '-9' } });
    await client.send(new DeleteItemCommand({ TableName: fresh, Key: { id: { S: 'o-11' } } }));
    const f = await store.getFrontier();
    await store.put(
      ControlKey.FRONTIER,
      {
        migrationId: 'orders',
        frontier: Date.now() - 3_600_000,
        computedAt: Date.now(),
        shards: [],
        gap: openGap(
          undefined,
          ['shardId-1'],
          Date.now() - 1000,
          Date.now() - 3_600_000,
          Date.now() + 600_000,
        ),
      },
      f?.version ?? 0,
    );
    expect((await cli('status')).stdout).toMatch(/stream gap: OPEN since .*dualread recover stream-gap/);

    // Act
    const r = await cli('--json', 'recover', 'stream-gap');

    // Assess
    expect(r.code).toBe(ExitCode.OK);
    const doc = JSON.parse(r.stdout) as { recovered: boolean; runs: Array<{ clean: boolean }> };
    expect(doc.recovered).toBe(true);
    expect(doc.runs.map((x) => x.clean)).toEqual([false, true]);
    expect((await getItem(client, fresh, { id: { S: 'o-9' } }))?.total).toEqual({
      N: '9.000000000000000000000000000000001',
    });
    expect(await getItem(client, fresh, { id: { S: 'o-11' } })).toBeDefined();
    expect(gapOpen((await store.getFrontier())?.gap)).toBe(false);
    expect((await store.listAudit()).some((a) => a.action === 'close-stream-gap')).toBe(true);
    expect((await cli('recover', 'stream-gap')).stdout).toMatch(
      /no stream gap is open; the last one: closed/,
    );
  });

  it('on AWS, starts the verification state machine, waits for its end and reads its report (SFN mocked)', async () => {
    // Arrange: Step Functions has no local server; the report is the one run v-1 wrote above.
    const sfn = mockClient(SFNClient);
    const machine = 'arn:aws:states:eu-west-1:111122223333:stateMachine:verify-orders';
    const exec = 'arn:aws:states:eu-west-1:111122223333:execution:verify-orders:v-1-x';
    sfn.on(StartExecutionCommand).resolves({ executionArn: exec, startDate: new Date() });
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: exec, stateMachineArn: machine, status: 'SUCCEEDED', startDate: new Date() });

    // Act
    const outcome = await runVerification({
      sfn: new SFNClient({ region: 'eu-west-1' }),
      store,
      stateMachineArn: machine,
      executionName: 'v-1-x',
      input: { runId: 'v-1', repair: false, actor: 'arn:aws:iam::111122223333:user/alice' },
      wait: { sleep: async () => undefined },
    });
    sfn.restore();

    // Assess
    expect(outcome).toMatchObject({
      runId: 'v-1',
      executionArn: exec,
      report: { runId: 'v-1', clean: true },
    });
    expect(isClean(outcome.report)).toBe(true);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}')).toEqual({
      runId: 'v-1',
      repair: false,
      actor: 'arn:aws:iam::111122223333:user/alice',
    });
  });

  it('replays a dead-lettered range from a message body, then waives a record and its key, all audited', async () => {
    // Arrange: a legacy write after the stream exists, as the message of a batch the sync function gave up on
    await putItem(client, legacy, { id: { S: 'o-late' }, total: { N: '1' } });
    const streams = new DynamoDBStreamsClient(testEndpoint());
    const shardId = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn })))
      .StreamDescription?.Shards?.[0]?.ShardId as string;
    const iterator = (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    const records = (await streams.send(new GetRecordsCommand({ ShardIterator: iterator }))).Records ?? [];
    streams.destroy();
    const seq = records.find((r) => r.dynamodb?.Keys?.id?.S === 'o-late')?.dynamodb?.SequenceNumber as string;
    const bodyFile = join(dir, 'message.json');
    writeFileSync(
      bodyFile,
      streamDeadLetterBody({
        shardId,
        startSequenceNumber: seq,
        endSequenceNumber: seq,
        streamArn,
        batchSize: 1,
        condition: 'RetryAttemptsExhausted',
      }),
    );

    // Act + Assess: applied once, skipped (already there) the second time; both complete
    const first = await cli('--json', 'dlq', 'replay', '--body-file', bodyFile);
    expect(first.code).toBe(ExitCode.OK);
    expect(JSON.parse(first.stdout)).toMatchObject({ complete: true, reports: [{ applied: 1, failed: 0 }] });
    expect(await getItem(client, fresh, { id: { S: 'o-late' } })).toBeDefined();
    const again = await cli('dlq', 'replay', '--body-file', bodyFile);
    expect(again.stdout).toMatch(/0 applied, 1 skipped, complete/);
    expect((await cli('dlq', 'replay')).code).toBe(ExitCode.USAGE);

    // Waive the record (as if it could not be replayed): its key becomes unresolved, listed with its origin
    expect((await cli('dlq', 'waive', '--sequence', seq, '--key', '{"id":{"S":"o-late"}}')).code).toBe(
      ExitCode.USAGE,
    );
    const waived = await cli(
      '--json',
      'dlq',
      'waive',
      '--sequence',
      seq,
      '--key',
      '{"id":{"S":"o-late"}}',
      '--reason',
      'test',
    );
    expect(waived.code).toBe(ExitCode.OK);
    const listed = JSON.parse((await cli('--json', 'dlq', 'list')).stdout) as {
      deadLetters: null;
      unresolvedKeys: { count: number; keys: Array<{ key: unknown }> };
    };
    expect(listed).toMatchObject({
      deadLetters: null,
      unresolvedKeys: { count: 1, keys: [{ key: { id: { S: 'o-late' } } }] },
    });
    const keyWaived = await cli(
      '--json',
      'dlq',
      'waive',
      '--key',
      '{"id":{"S":"o-late"}}',
      '--reason',
      'replayed by hand',
    );
    expect(JSON.parse(keyWaived.stdout)).toMatchObject({ result: { waived: 1, unresolvedCount: 0 } });
    const audit = JSON.parse((await cli('--json', 'audit', '--since', '1h')).stdout) as {
      records: Array<{ action: string }>;
    };
    expect(audit.records.map((a) => a.action)).toEqual(expect.arrayContaining(['waive-record']));
  });
});
