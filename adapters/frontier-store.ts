/**
 * The frontier tracker's control items and evidence: `SHARD#<shardId>` positions, the versioned
 * `FRONTIER` item, progress markers `APPLIED#<seq>`, waivers `WAIVER#<seq>` (all through
 * `ControlStore`), and the new items' `_dr_seq` (BatchGetItem on the new table).
 */
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  type KeysAndAttributes,
} from '@aws-sdk/client-dynamodb';
import { PoisonOrigin } from '../core/backfill';
import { type AuditRecord, ControlKey, type FrontierState, type ControlValue } from '../core/control';
import { DualReadError } from '../core/common';
import {
  type PersistedShard,
  type EvidencePort,
  type FrontierStorePort,
  WAIVER_PREFIX,
  type Waiver,
  waivedSequence,
  waiverKey,
} from '../core/frontier';
import { SEQ_WIDTH, type Item, canonicalItem, pick } from '../core/model';
import { APPLIED_PREFIX, type AppliedMarker } from '../core/cdc';
import type { ControlStore } from './control-store';
import { type SdkItem, fromSdkItem, toSdkItem } from './dynamodb';
import { LeadingWriteConflictError, PoisonRegistry } from './poison-registry';

/** The record was already waived; nothing was written. */
export class AlreadyWaivedError extends DualReadError {
  constructor(
    readonly migrationId: string,
    readonly sequenceNumber: string,
  ) {
    super(`record ${sequenceNumber} of migration "${migrationId}" is already waived; see its WAIVER# item`);
  }
}

/**
 * Waives a dead-lettered record (docs/correctness.md "Frontier"): writes `WAIVER#<seq>` and its AUDIT item in one
 * transaction, so a waiver never exists without its audit record. The tracker then treats the record as
 * applied and it stops holding `F` back.
 *
 * The same transaction registers the record's key as unresolved (core/backfill/poison.ts): an INSERT
 * that never reached the new table would otherwise, once `F` passes it and the backfill is complete,
 * be answered "not found" from new while legacy has the item. Reads of the key go to legacy until the
 * backfill's `retry` poison operation copies it (or an operator waives the key too).
 *
 * @param legacyKey the record's legacy key (`Keys` of the stream record, from the dead-letter message)
 * @throws AlreadyWaivedError if the record is already waived
 */
export async function waiveRecord(
  client: DynamoDBClient,
  controlTableName: string,
  migrationId: string,
  sequenceNumber: string,
  waiver: Waiver,
  legacyKey: Item,
): Promise<void> {
  const sk = waiverKey(sequenceNumber);
  const seq = sk.slice(WAIVER_PREFIX.length);
  const audit: AuditRecord = {
    migrationId,
    at: waiver.at,
    actor: waiver.actor,
    action: 'waive-record',
    reason: waiver.reason,
    detail: { sequenceNumber: seq },
  };
  const registry = new PoisonRegistry(client, controlTableName, migrationId);
  try {
    await registry.register(
      {
        legacyKey,
        reason: `stream record ${seq} was dead-lettered and waived by ${waiver.actor} (${waiver.reason}); its change may be missing from the new table`,
        origin: PoisonOrigin.CDC_WAIVER,
        sequenceNumber: seq,
        actor: waiver.actor,
        at: waiver.at,
      },
      [
        registry.createPut(sk, waiver),
        registry.createPut(ControlKey.audit(new Date(waiver.at).toISOString(), `waiver-${seq}`), audit),
      ],
    );
  } catch (err) {
    if (err instanceof LeadingWriteConflictError) throw new AlreadyWaivedError(migrationId, sequenceNumber);
    throw err;
  }
}

const SHARD_PREFIX = ControlKey.shard('');

/** `FrontierStorePort` over the control table. */
export class ControlFrontierStore implements FrontierStorePort {
  constructor(private readonly control: ControlStore) {}

  async loadShards(): Promise<PersistedShard[]> {
    const docs = await this.control.list<PersistedShard>(SHARD_PREFIX);
    return docs.map(({ sk: _sk, ...doc }) => doc as PersistedShard);
  }

  async saveShard(shard: PersistedShard): Promise<void> {
    await this.control.putUnversioned(
      ControlKey.shard(shard.shardId),
      shard as unknown as Record<string, ControlValue | undefined>,
    );
  }

  getFrontier(): Promise<FrontierState | undefined> {
    return this.control.getFrontier();
  }

  async putFrontier(next: Omit<FrontierState, 'version'>, expectedVersion: number): Promise<FrontierState> {
    return this.control.put(ControlKey.FRONTIER, next, expectedVersion);
  }
}

/** The padded sequence number just below `seq` (so an exclusive `after` includes `seq` itself). */
function below(seq: string): string | undefined {
  const n = BigInt(seq);
  return n === 0n ? undefined : (n - 1n).toString().padStart(SEQ_WIDTH, '0');
}

/** `EvidencePort` over the control table and the new table. */
export class FrontierEvidence implements EvidencePort {
  constructor(
    private readonly control: ControlStore,
    private readonly client: DynamoDBClient,
    private readonly newTableName: string,
    /** Key attribute names of the new table. */
    private readonly newKeyNames: readonly string[],
    /** The metadata attribute holding the sequence number (`_dr_seq` by default). */
    private readonly seqAttribute: string,
  ) {}

  async markers(fromSeq?: string): Promise<Array<AppliedMarker & { readonly sk: string }>> {
    const after = fromSeq === undefined ? undefined : below(fromSeq);
    return this.control.list<AppliedMarker>(
      APPLIED_PREFIX,
      after ? { after: `${APPLIED_PREFIX}${after}` } : {},
    );
  }

  async waivers(): Promise<string[]> {
    const docs = await this.control.list<Record<string, unknown>>(WAIVER_PREFIX);
    return docs.map((d) => waivedSequence(d.sk));
  }

  async newItemSequences(newKeys: readonly Item[]): Promise<Array<string | undefined>> {
    const found = new Map<string, string | undefined>();
    const unique = new Map<string, Item>();
    for (const k of newKeys) unique.set(canonicalItem(k), k);
    const keys = [...unique.values()];
    const names: Record<string, string> = { '#seq': this.seqAttribute };
    this.newKeyNames.forEach((n, i) => (names[`#k${i}`] = n));
    const projection = ['#seq', ...this.newKeyNames.map((_, i) => `#k${i}`)].join(', ');
    for (let i = 0; i < keys.length; i += 100) {
      let request: Record<string, KeysAndAttributes> | undefined = {
        [this.newTableName]: {
          Keys: keys.slice(i, i + 100).map(toSdkItem),
          ConsistentRead: true,
          ProjectionExpression: projection,
          ExpressionAttributeNames: names,
        },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const out: BatchGetItemCommandOutput = await this.client.send(
          new BatchGetItemCommand({ RequestItems: request }),
        );
        for (const raw of out.Responses?.[this.newTableName] ?? []) {
          const item = fromSdkItem(raw as SdkItem);
          const seq = item[this.seqAttribute];
          found.set(canonicalItem(pick(item, this.newKeyNames)), seq && 'S' in seq ? seq.S : undefined);
        }
        request = out.UnprocessedKeys;
        if (attempt > 8) break; // what stays unprocessed counts as "no evidence" (conservative)
      }
    }
    return newKeys.map((k) => found.get(canonicalItem(k)));
  }
}
