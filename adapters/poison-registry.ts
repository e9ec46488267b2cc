/**
 * The registry of keys the new table is known not to hold (core/backfill/poison.ts): the
 * `BACKFILL_POISON#` control items, their resolution, and the unresolved count and completion status
 * in STATE. Every write is versioned; a waiver is written with its AUDIT item in one transaction; a
 * registration after the scan finished bumps STATE in the same transaction.
 *
 * Size (just over 400 lines): one registry, every write of it versioned or transactional beside the
 * others it must agree with.
 */
import { randomUUID } from 'node:crypto';
import {
  type DynamoDBClient,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  PoisonOrigin,
  type PoisonRecord,
  type PoisonResolution,
  PoisonStatus,
  MAX_PINS,
  TooManyPinsError,
  backfillAfter,
  completionStatus,
  isPinned,
  isRetryable,
  isScanFinished,
  isUnresolved,
  partitionKeyHash,
  pinsOf,
  poisonKeyHash,
  samePins,
} from '../core/backfill';
import {
  type AuditRecord,
  ControlKey,
  type MigrationState,
  controlPk,
  type ControlValue,
  encodeControlItem,
} from '../core/control';
import { NamedError } from '../core/common';
import { compareSequence, type Item, itemFromDynamoJson, itemToDynamoJson } from '../core/model';
import { ControlConflictError, ControlStore, type Versioned } from './control-store';
import { toSdkItem } from './dynamodb';

/** Prefix of every registry item. */
export const POISON_PREFIX = 'BACKFILL_POISON#';

/** A registry item as stored. */
export type StoredPoison = Versioned<PoisonRecord> & { readonly sk: string };

/** A leading write of `register`'s transaction failed its condition (e.g. the waiver exists already). */
export class LeadingWriteConflictError extends NamedError {
  constructor(readonly index: number) {
    super(`write ${index} of the registration's transaction failed its condition`);
  }
}

/** What registers a key. */
export interface Registration {
  readonly legacyKey: Item;
  readonly reason: string;
  readonly origin: PoisonOrigin;
  /** The waived record's padded sequence number (origin `cdc-waiver`). */
  readonly sequenceNumber?: string;
  readonly actor: string;
  readonly at: number;
}

const MAX_ATTEMPTS = 10;

function stripMeta<T extends { version: number; sk?: string }>(doc: T): Omit<T, 'version' | 'sk'> {
  const { version: _v, sk: _sk, ...rest } = doc;
  return rest;
}

/** Reads and writes one migration's registry. */
export class PoisonRegistry {
  readonly store: ControlStore;
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
    readonly migrationId: string,
  ) {
    this.store = new ControlStore(client, tableName, migrationId);
  }

  /** Every registry item, in sort-key order. */
  list(): Promise<StoredPoison[]> {
    return this.store.list<Versioned<PoisonRecord>>(POISON_PREFIX);
  }

  /** The unresolved ones. */
  async unresolved(): Promise<StoredPoison[]> {
    return (await this.list()).filter(isUnresolved);
  }

  /** The ones pinned to legacy. */
  async pinned(): Promise<StoredPoison[]> {
    return (await this.list()).filter(isPinned);
  }

  /** What a retry examines: unresolved and pinned keys. */
  async retryable(): Promise<StoredPoison[]> {
    return (await this.list()).filter(isRetryable);
  }

  /**
   * Pins unresolved `records` to legacy: each record and its AUDIT item in one transaction (like a
   * waiver); returns how many this call pinned (one changed meanwhile is left to whoever changed it).
   * STATE learns the pins at the next `recount` (the caller's), which drops the unresolved count in
   * the same write that adds the pins.
   *
   * @throws TooManyPinsError when the pins would pass `MAX_PINS` (nothing is pinned)
   */
  async pin(
    records: readonly StoredPoison[],
    pin: { readonly actor: string; readonly reason: string; readonly at: number },
    partitionKeyName: string,
  ): Promise<number> {
    const already = (await this.pinned()).length;
    if (already + records.length > MAX_PINS)
      throw new TooManyPinsError(this.migrationId, already, records.length);
    let pinned = 0;
    for (const record of records) {
      const audit: AuditRecord = {
        migrationId: this.migrationId,
        at: pin.at,
        actor: pin.actor,
        action: 'backfill-poison-pin',
        reason: pin.reason,
        detail: { key: JSON.stringify(record.key), registered: record.reason.slice(0, 500) },
      };
      const doc: PoisonRecord = {
        ...stripMeta(record),
        status: PoisonStatus.PINNED,
        resolution: 'pinned',
        resolvedAt: pin.at,
        resolvedBy: pin.actor,
        pinReason: pin.reason.slice(0, 2000),
        partitionHash: partitionKeyHash(itemFromDynamoJson(record.key), partitionKeyName),
      };
      try {
        await this.transact([
          this.versionedPut(record.sk, doc, record.version),
          this.createPut(ControlKey.audit(new Date(pin.at).toISOString(), randomUUID()), audit),
        ]);
        pinned++;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
      }
    }
    return pinned;
  }

  /**
   * Records a poison item of the backfill once: a rescan after a crash meets the same item again and
   * must not count it twice. Returns 1 when this call recorded it, 0 when it was already recorded.
   */
  async record(segment: number, runId: string, legacyKey: Item, reason: string, at: number): Promise<number> {
    const doc: PoisonRecord = {
      key: itemToDynamoJson(legacyKey),
      reason: reason.slice(0, 2000),
      at,
      origin: PoisonOrigin.BACKFILL,
      segment,
      runId,
      status: PoisonStatus.UNRESOLVED,
    };
    try {
      await this.store.put(ControlKey.backfillPoison(segment, poisonKeyHash(legacyKey)), doc, 0);
      return 1;
    } catch (err) {
      if (err instanceof ControlConflictError) return 0;
      throw err;
    }
  }

  /** Marks `record` resolved; false when it changed meanwhile (someone else settled it). */
  async resolve(
    record: StoredPoison,
    resolution: PoisonResolution,
    by: { readonly actor: string; readonly at: number },
  ): Promise<boolean> {
    const { pinReason: _r, partitionHash: _p, ...rest } = stripMeta(record);
    return this.update(record, {
      ...rest,
      status: PoisonStatus.RESOLVED,
      resolution,
      resolvedAt: by.at,
      resolvedBy: by.actor,
    });
  }

  /** Keeps `record` unresolved with the reason of the latest retry. */
  stillPoison(record: StoredPoison, reason: string): Promise<boolean> {
    return this.update(record, {
      ...stripMeta(record),
      reason: reason.slice(0, 2000),
      retries: (record.retries ?? 0) + 1,
    });
  }

  /** An operator's waiver of `record`: the record and its AUDIT item in one transaction; false when it changed. */
  async waive(
    record: StoredPoison,
    waiver: { readonly actor: string; readonly reason: string; readonly at: number },
  ): Promise<boolean> {
    const audit: AuditRecord = {
      migrationId: this.migrationId,
      at: waiver.at,
      actor: waiver.actor,
      action: 'backfill-poison-waive',
      reason: waiver.reason,
      detail: { key: JSON.stringify(record.key), registered: record.reason.slice(0, 500) },
    };
    const { pinReason: _r, partitionHash: _p, ...rest } = stripMeta(record);
    const resolved: PoisonRecord = {
      ...rest,
      status: PoisonStatus.RESOLVED,
      resolution: 'waived',
      resolvedAt: waiver.at,
      resolvedBy: waiver.actor,
    };
    try {
      await this.transact([
        this.versionedPut(record.sk, resolved, record.version),
        this.createPut(ControlKey.audit(new Date(waiver.at).toISOString(), randomUUID()), audit),
      ]);
      return true;
    } catch (err) {
      if (err instanceof TransactionCanceledException) return false;
      throw err;
    }
  }

  /**
   * Recomputes STATE from the registry, with an AUDIT item (ControlStore.changeState): the keys pinned
   * to legacy (`pins`, `backfill.pinned`) always, and once the scan has finished `backfill.unresolved`
   * and the completion status (before, the finish step counts). The pins and the count are written
   * together, so a pinned key is never settled in STATE before the read path can see its pin. With
   * `always`, writes (and audits) even when nothing changed.
   */
  async recount(
    audit: {
      readonly actor: string;
      readonly action: string;
      readonly reason: string;
      readonly detail?: AuditRecord['detail'];
    },
    now: () => number,
    always = false,
  ): Promise<MigrationState | undefined> {
    for (let attempt = 0; ; attempt++) {
      const state = await this.store.getState();
      if (!state) return state;
      const unresolved = (await this.unresolved()).length;
      const pins = pinsOf(await this.pinned());
      const finished = isScanFinished(state.backfill.status);
      const status = finished ? completionStatus(unresolved) : state.backfill.status;
      const pinsSame = samePins(state.pins, pins) && (state.backfill.pinned ?? 0) === pins.keys.length;
      if (
        !always &&
        pinsSame &&
        (!finished || (state.backfill.unresolved === unresolved && state.backfill.status === status))
      )
        return state;
      if (!finished && pinsSame) return state;
      const at = now();
      const { version: _v, pins: _pins, ...rest } = state;
      try {
        return await this.store.changeState(
          state,
          {
            ...rest,
            backfill: {
              ...state.backfill,
              ...(finished ? { unresolved, status } : {}),
              pinned: pins.keys.length,
            },
            ...(pins.keys.length ? { pins } : {}),
            updatedAt: at,
            updatedBy: audit.actor,
          },
          {
            migrationId: this.migrationId,
            at,
            actor: audit.actor,
            action: audit.action,
            reason: audit.reason,
            from: state.backfill.status,
            to: status,
            detail: { ...audit.detail, unresolved, pinned: pins.keys.length },
          },
          randomUUID(),
        );
      } catch (err) {
        if (!(err instanceof ControlConflictError) || attempt + 1 >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Registers `r.legacyKey` as unresolved, in ONE transaction with `leading` (for example a waiver and
   * its audit) and a guard on STATE: when STATE exists its version is bumped (after a finished scan
   * also the count raised, COMPLETE becoming COMPLETE_WITH_POISON), else it is checked absent. So a
   * concurrent recount either lists this key or fails on STATE's version and counts again.
   *
   * @throws LeadingWriteConflictError when a condition of `leading` fails (nothing is written)
   */
  async register(r: Registration, leading: readonly TransactWriteItem[]): Promise<void> {
    const sk = ControlKey.waivedRecordPoison(poisonKeyHash(r.legacyKey));
    for (let attempt = 0; ; attempt++) {
      const [state, existing] = await Promise.all([
        this.store.getState(),
        this.store.get<Versioned<PoisonRecord>>(sk),
      ]);
      const sequenceNumber =
        existing?.sequenceNumber &&
        r.sequenceNumber &&
        compareSequence(existing.sequenceNumber, r.sequenceNumber) > 0
          ? existing.sequenceNumber
          : r.sequenceNumber;
      const doc: PoisonRecord = {
        key: itemToDynamoJson(r.legacyKey),
        reason: r.reason.slice(0, 2000),
        at: r.at,
        origin: r.origin,
        ...(sequenceNumber ? { sequenceNumber } : {}),
        status: PoisonStatus.UNRESOLVED,
      };
      const added = !existing || !isUnresolved(existing) ? 1 : 0;
      const stateGuard: TransactWriteItem = state
        ? this.versionedPut(
            ControlKey.STATE,
            {
              ...stripMeta(state),
              backfill: backfillAfter(state.backfill, added),
              updatedAt: r.at,
              updatedBy: r.actor,
            },
            state.version,
          )
        : {
            ConditionCheck: {
              TableName: this.tableName,
              Key: toSdkItem({ pk: { S: controlPk(this.migrationId) }, sk: { S: ControlKey.STATE } }),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          };
      try {
        await this.transact([...leading, this.versionedPut(sk, doc, existing?.version ?? 0), stateGuard]);
        return;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const failed = (err.CancellationReasons ?? []).findIndex((c) => c.Code === 'ConditionalCheckFailed');
        if (failed >= 0 && failed < leading.length) throw new LeadingWriteConflictError(failed);
        if (attempt + 1 >= MAX_ATTEMPTS) throw new ControlConflictError(this.migrationId, sk);
      }
    }
  }

  /** A Put of a control document, as `ControlStore.put` writes it (version + 1, on the expected version). */
  versionedPut(sk: string, doc: object, expectedVersion: number): TransactWriteItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: this.controlItem(sk, { ...doc, version: expectedVersion + 1 }),
        ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : '#v = :expected',
        ...(expectedVersion === 0
          ? {}
          : {
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
            }),
      },
    };
  }

  /** A Put of a control document that must not exist yet (unversioned items such as waivers). */
  createPut(sk: string, doc: object): TransactWriteItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: this.controlItem(sk, doc),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  private controlItem(sk: string, doc: object) {
    return toSdkItem({
      ...encodeControlItem(doc as Record<string, ControlValue>),
      pk: { S: controlPk(this.migrationId) },
      sk: { S: sk },
    });
  }

  private async update(record: StoredPoison, next: PoisonRecord): Promise<boolean> {
    try {
      await this.store.put(record.sk, next, record.version);
      return true;
    } catch (err) {
      if (err instanceof ControlConflictError) return false;
      throw err;
    }
  }

  private async transact(items: readonly TransactWriteItem[]): Promise<void> {
    await this.client.send(new TransactWriteItemsCommand({ TransactItems: [...items] }));
  }
}
