/**
 * `kill-sync` at the moment that matters: the sync Lambda dies after some apply writes of a batch landed
 * and before the batch's progress marker. The local CDC (`local/local-cdc.ts`) then tells the rehearsal
 * the records of the killed invocation that are applied all the same — exactly those whose item in new
 * carries their sequence number or a later one, the item evidence the frontier tracker accepts — and the
 * event source retries the batch on a fresh instance. The retry is held (a gate on its calls to new, not
 * a timer) while new is read, so the test sees what the tracker could see before the retry.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ControlStore } from '../../../adapters/control-store';
import { type DynamoEndpoint } from '../../../adapters/dynamodb';
import { appliedMarkerKey } from '../../../core/cdc';
import { compareSequence, itemFromDynamoJson, metadataNames, sequenceOf } from '../../../core/model';
import { KillableProcess } from '../../../local/faults/processes';
import { getItem } from '../../helpers/dynamo';
import { cdcPipelines, createUsersTables, startUsersCdc } from '../../helpers/users-tables';
import { waitUntil } from '../../helpers/wait';

interface Told {
  readonly records: DynamoDBStreamEvent['Records'];
  readonly killed: boolean;
}

describe('kill-sync: what a killed invocation applied', () => {
  const { client, pipelines } = cdcPipelines();

  it('tells only the records new shows applied (no marker), and the retry on a fresh instance applies the rest', async () => {
    // Prepare: 40 keys put, then updated (conditional PutItems); the kill at the 10th PutItem to new.
    const t = await createUsersTables(client, 'killsync');
    const names = metadataNames(t.migration.metadataPrefix);
    const tables = {
      legacy: t.migration.legacyTable.tableName,
      new: t.migration.newTable.tableName,
      control: t.controlTableName,
    };
    const trigger = { roles: ['new'] as const, operations: ['PutItem'], afterCalls: [10, 10] as const };
    const sync = new KillableProcess('sync', { ...trigger, maxKills: 1 }, tables, 1);
    let releaseRetry: () => void = () => undefined;
    const retryGate = new Promise<void>((r) => (releaseRetry = r));
    type Stack = { add(mw: unknown, o: { step: 'initialize'; priority: 'low'; name: string }): void };
    // Every call to new after the kill (the retry's) waits at the gate.
    const gate: DynamoEndpoint['instrument'] = (c) =>
      (c.middlewareStack as unknown as Stack).add(
        (next: (a: unknown) => Promise<unknown>) => async (args: { input?: unknown }) => {
          if (sync.kills > 0 && JSON.stringify(args.input ?? {}).includes(tables.new)) await retryGate;
          return next(args);
        },
        { step: 'initialize', priority: 'low', name: 'testRetryGate' },
      );
    const told: Told[] = [];
    const put = (id: string, n: number) =>
      client.send(
        new PutItemCommand({ TableName: tables.legacy, Item: { userId: { S: id }, n: { N: String(n) } } }),
      );
    const keys = Array.from({ length: 40 }, (_, i) => `ks-${String(i).padStart(2, '0')}`);
    for (const id of keys) await put(id, 1);
    for (const id of keys) await put(id, 2);
    const cdc = await startUsersCdc(t, {
      poller: { batchSize: 40, pollIntervalMs: 20 },
      restarts: {
        incarnation: (b) => sync.incarnation({ ...b, instrument: gate }),
        restarted: () => sync.restarted(),
        killedBatch: (i, batch) => sync.killedBatch(i, batch),
        retried: (i, by) => sync.retried(i, by),
      },
      onDeliver: (e, _at, how) => told.push({ records: e.Records, killed: how?.killed ?? false }),
    });
    pipelines.push(cdc);

    // Act: wait for the killed invocation's report; its retry is held at its first call to new.
    await waitUntil('the killed invocation ended', () => sync.events[0]?.batch !== undefined);
    const batch = sync.events[0]?.batch;
    const appliedSeqs = told.filter((d) => d.killed).flatMap((d) => d.records.map(seqOf));
    const newItems = new Map<string, string | undefined>();
    for (const id of keys) {
      const item = await getItem(client, tables.new, t.migration.mapKey({ userId: { S: id } }));
      newItems.set(id, item ? sequenceOf(item, names) : undefined);
    }
    const marker = await new ControlStore(client, tables.control, t.migration.id).get(
      appliedMarkerKey(batch?.first ?? ''),
    );
    const toldBeforeRetry = told.length;
    releaseRetry();
    await cdc.poller.drain();

    // Assess: the killed batch (the retry took it again, from its first record to its last).
    const inBatch = told
      .filter((d) => !d.killed)
      .flatMap((d) => d.records)
      .filter(
        (r) =>
          compareSequence(seqOf(r), batch?.first ?? '') >= 0 &&
          compareSequence(seqOf(r), batch?.last ?? '') <= 0,
      );
    expect(inBatch).toHaveLength(batch?.records ?? -1);
    expect(marker).toBeUndefined();
    // Told ⇔ new's item carries the record's sequence number or a later one (the tracker's evidence).
    const showsApplied = inBatch.filter((r) => {
      const stored = newItems.get(keyIdOf(r));
      return stored !== undefined && compareSequence(stored, seqOf(r)) >= 0;
    });
    expect(appliedSeqs.sort()).toEqual(showsApplied.map(seqOf).sort());
    expect(batch?.appliedBeforeKill).toBe(appliedSeqs.length);
    expect(appliedSeqs.length).toBeGreaterThan(0);
    expect(appliedSeqs.length).toBeLessThan(batch?.records ?? 0);
    // Before the retry nothing of the killed batch was told but those; the retry ran on incarnation 2
    // and applied every key.
    const early = told.slice(0, toldBeforeRetry).filter((d) => !d.killed);
    expect(
      early.flatMap((d) => d.records).filter((r) => compareSequence(seqOf(r), batch?.first ?? '') >= 0),
    ).toEqual([]);
    expect(sync.events[0]?.batch?.retriedBy).toBe(2);
    expect(sync.restarts).toBe(1);
    for (const id of keys) {
      const item = await getItem(client, tables.new, t.migration.mapKey({ userId: { S: id } }));
      expect(item?.n).toEqual({ N: '2' });
    }
  }, 120_000);
});

const keyIdOf = (r: DynamoDBStreamEvent['Records'][number]): string => {
  const id = itemFromDynamoJson(r.dynamodb?.Keys ?? {}).userId;
  return id && 'S' in id ? id.S : '';
};
const seqOf = (r: DynamoDBStreamEvent['Records'][number]): string => r.dynamodb?.SequenceNumber ?? '';
