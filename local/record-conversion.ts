/**
 * What the local event source does to a DynamoDB Local stream record before the handler sees it: the
 * repair of DynamoDB Local's empty maps, the conversion into Lambda's record shape (a record that does
 * not convert is kept, with the reason, to be dead-lettered in its turn) and Lambda's JSON transport.
 */
import type { _Record as SdkStreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type LambdaShapeOptions, lambdaRecordFromSdk } from '../adapters/stream-records';

/**
 * DynamoDB Local writes an empty map as `{}` instead of `{"M":{}}` in stream records (AWS does not).
 * `{}` is no valid attribute value, so the repair is unambiguous; it is applied to every image before
 * the record is handed on, so the handler sees what AWS would deliver. See docs/architecture.md.
 */
export function repairEmptyMaps(record: SdkStreamRecord): SdkStreamRecord {
  const fix = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v;
    const o = v as Record<string, unknown>;
    const tags = Object.keys(o).filter((k) => o[k] !== undefined);
    if (tags.length === 0) return { M: Object.create(null) as Record<string, unknown> };
    if (tags.length === 1 && tags[0] === 'M') return { M: fixItem(o.M as Record<string, unknown>) };
    if (tags.length === 1 && tags[0] === 'L') return { L: (o.L as unknown[]).map(fix) };
    return v;
  };
  // Prototype-free, like every item (core/model/values.ts): attribute names may be `__proto__`.
  const fixItem = (item: Record<string, unknown> | undefined) => {
    if (!item) return item;
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(item)) out[k] = fix(item[k]);
    return out;
  };
  const body = record.dynamodb;
  if (!body) return record;
  return {
    ...record,
    dynamodb: {
      ...body,
      ...(body.NewImage ? { NewImage: fixItem(body.NewImage) as typeof body.NewImage } : {}),
      ...(body.OldImage ? { OldImage: fixItem(body.OldImage) as typeof body.OldImage } : {}),
    },
  };
}

/** What Lambda's JSON transport does to an event. */
export function lambdaJson(event: DynamoDBStreamEvent): DynamoDBStreamEvent {
  return JSON.parse(JSON.stringify(event)) as DynamoDBStreamEvent;
}

/** A record read from the shard that could not be converted: it is dead-lettered in its turn. */
export interface Unconvertible {
  readonly unconvertible: DynamoDBRecord;
  readonly reason: string;
}
export type Buffered = DynamoDBRecord | Unconvertible;

export function isUnconvertible(b: Buffered | undefined): b is Unconvertible {
  return b !== undefined && 'unconvertible' in b;
}

/** The record as far as it converts (its keys, or only its sequence number) for the dead-letter entry. */
function bareRecord(r: SdkStreamRecord, o: LambdaShapeOptions): DynamoDBRecord {
  const body = r.dynamodb ?? {};
  const strip = { ...r, dynamodb: { ...body, NewImage: undefined, OldImage: undefined } };
  try {
    return lambdaRecordFromSdk(strip, o);
  } catch {
    return lambdaRecordFromSdk({ ...strip, dynamodb: { ...strip.dynamodb, Keys: undefined } }, o);
  }
}

/** Converts one record; a record that does not convert is kept, with the reason, to dead-letter. */
export function convertRecord(r: SdkStreamRecord, shape: LambdaShapeOptions): Buffered {
  try {
    return lambdaRecordFromSdk(repairEmptyMaps(r), shape);
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { unconvertible: bareRecord(r, shape), reason };
  }
}
