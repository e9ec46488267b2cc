/**
 * Typed factories for stream changes and Lambda DynamoDB stream records (JSON shape: binary as
 * base64, ApproximateCreationDateTime in epoch seconds).
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ChangeKind, type StreamChange } from '../../core/cdc';
import { type Item, itemToDynamoJson } from '../../core/model';

/** A core change. */
export function change(
  eventName: ChangeKind,
  keys: Item,
  sequenceNumber: string,
  approximateCreationTime: number,
  newImage?: Item,
): StreamChange {
  return { eventName, keys, sequenceNumber, approximateCreationTime, ...(newImage ? { newImage } : {}) };
}

/** A Lambda stream record (INSERT/MODIFY with `newImage`, REMOVE without). */
export function lambdaRecord(options: {
  eventName?: ChangeKind;
  keys: Item;
  seq: string;
  createdMs?: number;
  newImage?: Item;
}): DynamoDBRecord {
  const eventName = options.eventName ?? (options.newImage ? ChangeKind.MODIFY : ChangeKind.REMOVE);
  const json = (i: Item) => itemToDynamoJson(i) as unknown as Record<string, never>;
  return JSON.parse(
    JSON.stringify({
      eventID: `e-${options.seq}`,
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2026-12-01T00:00:00.000',
      dynamodb: {
        ApproximateCreationDateTime: (options.createdMs ?? 1_764_547_200_000) / 1000,
        Keys: json(options.keys),
        ...(options.newImage ? { NewImage: json(options.newImage) } : {}),
        SequenceNumber: options.seq,
        SizeBytes: 100,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    }),
  ) as DynamoDBRecord;
}

/** An event of records. */
export function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}
