/**
 * The control table adapter: typed reads and optimistically locked writes of control items
 * (docs/design.md §3). Every change to STATE writes an AUDIT item in the same transaction.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  type Put,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  type AuditRecord,
  ControlKey,
  type FrontierState,
  type MigrationState,
  controlPk,
  type ControlValue,
  decodeControlItem,
  encodeControlItem,
} from '../core/control';
import { DualReadError } from '../core/common';
import type { Item } from '../core/model';
import { fromSdkItem, toSdkItem } from './dynamodb';

/** Someone else changed the control item first; re-read and retry (or give up). */
export class ControlConflictError extends DualReadError {
  constructor(
    readonly migrationId: string,
    readonly sk: string,
  ) {
    super(`control item ${sk} of migration "${migrationId}" was changed concurrently; re-read and retry`);
  }
}

/** A control document with its optimistic-locking version. */
export type Versioned<T> = T & { readonly version: number };

const sameVersion = 'attribute_not_exists(#v) OR #v = :expected';
const absent = 'attribute_not_exists(pk)';

/** Reads and writes one migration's control items. */
export class ControlStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
    readonly migrationId: string,
  ) {}

  private key(sk: string): Item {
    return { pk: { S: controlPk(this.migrationId) }, sk: { S: sk } };
  }

  private encode(sk: string, doc: Record<string, ControlValue | undefined>): Item {
    return { ...encodeControlItem(doc), ...this.key(sk) };
  }

  /** Reads a control document; undefined if absent. */
  async get<T>(sk: string, consistent = true): Promise<T | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: toSdkItem(this.key(sk)),
        ConsistentRead: consistent,
      }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...rest } = decodeControlItem(fromSdkItem(out.Item));
    return rest as T;
  }

  /**
   * Writes a control document if its stored version is still `expectedVersion` (or it is absent and
   * `expectedVersion` is 0), storing `expectedVersion + 1`.
   *
   * @throws ControlConflictError when another writer got there first
   */
  async put<T extends object>(sk: string, doc: T, expectedVersion: number): Promise<Versioned<T>> {
    const next = { ...doc, version: expectedVersion + 1 } as Versioned<T>;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toSdkItem(this.encode(sk, next as unknown as Record<string, ControlValue>)),
          ConditionExpression: expectedVersion === 0 ? absent : '#v = :expected',
          ExpressionAttributeNames: expectedVersion === 0 ? undefined : { '#v': 'version' },
          ExpressionAttributeValues:
            expectedVersion === 0 ? undefined : { ':expected': { N: String(expectedVersion) } },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException)
        throw new ControlConflictError(this.migrationId, sk);
      throw err;
    }
    return next;
  }

  /**
   * The put of `put` (versioned: `expectedVersion + 1` stored, only over `expectedVersion`), for a
   * transaction that makes the change and audits it at once.
   */
  versionedPut<T extends object>(sk: string, doc: T, expectedVersion: number): Put {
    const next = { ...doc, version: expectedVersion + 1 };
    return {
      TableName: this.tableName,
      Item: toSdkItem(this.encode(sk, next as unknown as Record<string, ControlValue>)),
      ConditionExpression: expectedVersion === 0 ? absent : '#v = :expected',
      ...(expectedVersion === 0
        ? {}
        : {
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
          }),
    };
  }

  /** Writes a control document unconditionally (for append-only items such as progress markers). */
  async putUnversioned(sk: string, doc: Record<string, ControlValue | undefined>): Promise<void> {
    await this.client.send(
      new PutItemCommand({ TableName: this.tableName, Item: toSdkItem(this.encode(sk, doc)) }),
    );
  }

  /** Lists the documents whose sort key starts with `prefix`, in sort-key order. */
  async list<T>(
    prefix: string,
    options: { limit?: number; after?: string } = {},
  ): Promise<Array<T & { sk: string }>> {
    const out: Array<T & { sk: string }> = [];
    let start: Record<string, { S: string }> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: options.after
            ? 'pk = :pk AND sk BETWEEN :from AND :to'
            : 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: options.after
            ? {
                ':pk': { S: controlPk(this.migrationId) },
                ':from': { S: options.after },
                ':to': { S: `${prefix}\uffff` },
              }
            : { ':pk': { S: controlPk(this.migrationId) }, ':prefix': { S: prefix } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
          ...(options.limit ? { Limit: options.limit - out.length } : {}),
        }),
      );
      for (const raw of page.Items ?? []) {
        const { pk: _pk, ...rest } = decodeControlItem(fromSdkItem(raw));
        if (options.after && rest.sk === options.after) continue;
        out.push(rest as T & { sk: string });
      }
      start = page.LastEvaluatedKey as Record<string, { S: string }> | undefined;
    } while (start && (!options.limit || out.length < options.limit));
    return out;
  }

  /** Reads the STATE item. */
  getState(): Promise<MigrationState | undefined> {
    return this.get<MigrationState>(ControlKey.STATE);
  }

  /** Reads the FRONTIER item. */
  getFrontier(consistent = true): Promise<FrontierState | undefined> {
    return this.get<FrontierState>(ControlKey.FRONTIER, consistent);
  }

  /**
   * Changes STATE from `current` (as read, with its version; undefined if absent) to `next`, and
   * writes the audit record in the same transaction (docs/design.md §4.6).
   *
   * @throws ControlConflictError if STATE changed since it was read
   */
  async changeState(
    current: MigrationState | undefined,
    next: Omit<MigrationState, 'version'>,
    audit: AuditRecord,
    auditId: string,
  ): Promise<MigrationState> {
    const expected = current?.version ?? 0;
    const stored = { ...next, version: expected + 1 } as MigrationState;
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: toSdkItem(
                  this.encode(ControlKey.STATE, stored as unknown as Record<string, ControlValue>),
                ),
                ConditionExpression: expected === 0 ? absent : sameVersion,
                ExpressionAttributeNames: expected === 0 ? undefined : { '#v': 'version' },
                ExpressionAttributeValues:
                  expected === 0 ? undefined : { ':expected': { N: String(expected) } },
              },
            },
            { Put: this.auditPut(audit, auditId) },
          ],
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException)
        throw new ControlConflictError(this.migrationId, ControlKey.STATE);
      throw err;
    }
    return stored;
  }

  /**
   * The put of an `AUDIT#<iso-time>#<id>` record, for a transaction that makes a change and audits it
   * at once; it fails if the record exists (audit records are never overwritten).
   */
  auditPut(audit: AuditRecord, auditId: string): Put {
    const sk = ControlKey.audit(new Date(audit.at).toISOString(), auditId);
    return {
      TableName: this.tableName,
      Item: toSdkItem(this.encode(sk, audit as unknown as Record<string, ControlValue>)),
      ConditionExpression: absent,
    };
  }

  /** Lists audit records, oldest first. */
  listAudit(limit?: number): Promise<Array<AuditRecord & { sk: string }>> {
    return this.list<AuditRecord>('AUDIT#', limit ? { limit } : {});
  }
}

/** A versioned document without its version (to write it back: `put` sets the next version itself). */
export function stripVersion<T extends { version: number }>(v: T): Omit<T, 'version'> {
  const { version: _v, ...rest } = v;
  return rest;
}

/**
 * The item at `sk`, or `initial()` stored there as its first version; when another writer stores it
 * first (a `ControlConflictError`), the item that writer stored. For working items every runner of a
 * run starts from, such as segment checkpoints.
 */
export async function getOrCreate<T extends object>(
  store: ControlStore,
  sk: string,
  initial: () => T,
): Promise<Versioned<T>> {
  const existing = await store.get<Versioned<T>>(sk);
  if (existing) return existing;
  try {
    return await store.put(sk, initial(), 0);
  } catch (err) {
    if (!(err instanceof ControlConflictError)) throw err;
    const winner = await store.get<Versioned<T>>(sk);
    if (!winner) throw err;
    return winner;
  }
}
