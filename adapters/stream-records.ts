/**
 * Stream records at the boundary: Lambda's `DynamoDBRecord` (JSON: binary as base64,
 * `ApproximateCreationDateTime` in epoch SECONDS) to the core's `StreamChange`, and a `GetRecords`
 * record (SDK: binary as bytes, `ApproximateCreationDateTime` a Date) to the Lambda shape, which is
 * what the local event source hands the real handler.
 */
import type { _Record as SdkStreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { ChangeKind, type StreamChange } from '../core/cdc';
import { NamedError } from '../core/common';
import {
  type Item,
  InvalidValueError,
  assertItem,
  itemFromDynamoJson,
  itemToDynamoJson,
} from '../core/model';

/** A stream record that is not a well-formed change (a poison record). */
export class MalformedStreamRecordError extends NamedError {
  constructor(
    readonly sequenceNumber: string | undefined,
    problem: string,
  ) {
    super(
      `stream record ${sequenceNumber ?? '(no sequence number)'}: ${problem}; ` +
        'the stream must be NEW_AND_OLD_IMAGES and records must come from DynamoDB Streams',
    );
  }
}

const KINDS: readonly string[] = Object.values(ChangeKind);

/**
 * Converts a Lambda DynamoDB stream record to a `StreamChange`, validating every value.
 *
 * @throws MalformedStreamRecordError if something the apply rule needs is missing or invalid
 */
export function changeFromLambdaRecord(record: DynamoDBRecord): StreamChange {
  const body = record.dynamodb;
  const seq = body?.SequenceNumber;
  const fail = (problem: string): never => {
    throw new MalformedStreamRecordError(seq, problem);
  };
  if (!body || !seq) return fail('no dynamodb.SequenceNumber');
  if (!record.eventName || !KINDS.includes(record.eventName))
    return fail(`unknown eventName "${record.eventName}"`);
  if (!body.Keys) return fail('no dynamodb.Keys');
  if (typeof body.ApproximateCreationDateTime !== 'number') return fail('no ApproximateCreationDateTime');
  let keys: Item = {};
  let newImage: Item | undefined;
  try {
    keys = itemFromDynamoJson(body.Keys, 'Keys');
    if (body.NewImage) newImage = itemFromDynamoJson(body.NewImage, 'NewImage');
  } catch (err) {
    if (err instanceof InvalidValueError) fail(err.message);
    throw err;
  }
  return {
    eventName: record.eventName as ChangeKind,
    keys,
    ...(newImage ? { newImage } : {}),
    sequenceNumber: seq,
    // Lambda gives epoch seconds (possibly fractional); the core works in epoch ms.
    approximateCreationTime: Math.round(body.ApproximateCreationDateTime * 1000),
  };
}

/** Options of `lambdaRecordFromSdk`. */
export interface LambdaShapeOptions {
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/**
 * Builds the record Lambda's event source mapping would deliver for a `GetRecords` record: DynamoDB
 * JSON (binary as base64) and `ApproximateCreationDateTime` in epoch seconds.
 *
 * @throws MalformedStreamRecordError if an image is not a well-formed item (for instance a value the
 *   SDK lost: `LostAttributeError`); the local event source dead-letters such a record alone
 */
export function lambdaRecordFromSdk(record: SdkStreamRecord, options: LambdaShapeOptions): DynamoDBRecord {
  const body = record.dynamodb ?? {};
  const created = body.ApproximateCreationDateTime;
  const seconds =
    created instanceof Date ? created.getTime() / 1000 : typeof created === 'number' ? created : 0;
  const json = (item: unknown, where: string) => {
    if (!item) return undefined;
    try {
      return itemToDynamoJson(assertItem(item, where)) as unknown as Record<string, never>;
    } catch (err) {
      if (err instanceof InvalidValueError)
        throw new MalformedStreamRecordError(body.SequenceNumber, `${err.name}: ${err.message}`);
      throw err;
    }
  };
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: options.awsRegion,
    eventSourceARN: options.eventSourceARN,
    dynamodb: {
      ApproximateCreationDateTime: seconds,
      Keys: json(body.Keys, 'Keys'),
      ...(body.NewImage ? { NewImage: json(body.NewImage, 'NewImage') } : {}),
      ...(body.OldImage ? { OldImage: json(body.OldImage, 'OldImage') } : {}),
      SequenceNumber: body.SequenceNumber,
      SizeBytes: body.SizeBytes,
      StreamViewType: body.StreamViewType as NonNullable<DynamoDBRecord['dynamodb']>['StreamViewType'],
    },
  };
}
