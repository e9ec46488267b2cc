/**
 * The dead-letter message of the CDC path: what Lambda's DynamoDB Streams event source mapping sends to
 * its on-failure destination (the SQS dead-letter queue of `StreamSync`) when a batch could not be
 * applied after its retries, or its records got older than the maximum record age.
 *
 * The message does NOT carry the records, only where they are: the stream, the shard and the sequence
 * range of the failed part of the batch (`DDBStreamBatchInfo`). To replay it, the records are read again
 * from the stream (adapters/stream-range.ts), which keeps them for 24 hours. The documented shape:
 *
 *     { "requestContext": { "requestId", "functionArn", "condition": "RetryAttemptsExhausted",
 *                           "approximateInvokeCount": 11 },
 *       "responseContext": { "statusCode", "executedVersion", "functionError" },
 *       "version": "1.0", "timestamp": "2026-11-14T00:13:49.717Z",
 *       "DDBStreamBatchInfo": { "shardId", "startSequenceNumber", "endSequenceNumber",
 *                               "approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord",
 *                               "batchSize", "streamArn" } }
 *
 * Sequence numbers stay strings of digits (up to 40): a JSON number would lose digits.
 */
import { DualReadError } from '../common';

/** The message body is not a Lambda on-failure record of a DynamoDB stream batch. */
export class DeadLetterMessageError extends DualReadError {
  constructor(readonly problem: string) {
    super(
      `the message is not a DynamoDB stream on-failure record (DDBStreamBatchInfo): ${problem}. ` +
        "Pass the Body of a message of the sync function's dead-letter queue, as `aws sqs receive-message` prints it",
    );
  }
}

/** A dead-lettered stream batch: where its records are, and what Lambda said about it. */
export interface StreamDeadLetter {
  readonly shardId: string;
  /** First sequence number of the failed part, as the stream gives it. */
  readonly startSequenceNumber: string;
  /** Last sequence number of the failed part (inclusive). */
  readonly endSequenceNumber: string;
  readonly streamArn: string;
  /** Records in the failed part, by Lambda's count. */
  readonly batchSize: number;
  /** Epoch ms. */
  readonly approximateArrivalOfFirstRecord?: number;
  /** Epoch ms. */
  readonly approximateArrivalOfLastRecord?: number;
  /** Why Lambda gave up: `RetryAttemptsExhausted`, `RecordAgeExceeded`, ... */
  readonly condition?: string;
  readonly approximateInvokeCount?: number;
  /** When Lambda sent the message, epoch ms. */
  readonly timestamp?: number;
}

/** A DynamoDB stream ARN: `arn:<partition>:dynamodb:<region>:<account>:table/<table>/stream/<label>`. */
const STREAM_ARN = /^arn:aws[a-z-]*:dynamodb:[^:]*:[^:]*:table\/([^/]+)\/stream\/[^/]+$/;
const SEQUENCE = /^\d{1,40}$/;
const MAX_BATCH = 10_000;

/** The table name in a DynamoDB stream ARN, or undefined if `arn` is not one. */
export function streamTableName(arn: string): string | undefined {
  return STREAM_ARN.exec(arn)?.[1];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads and validates the body of an on-failure message.
 *
 * @throws DeadLetterMessageError naming the first problem found
 */
export function parseStreamDeadLetter(body: string): StreamDeadLetter {
  const fail = (problem: string): never => {
    throw new DeadLetterMessageError(problem);
  };
  if (body.trim() === '') fail('the message body is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    fail(`the body is not JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) return fail('the body is not a JSON object');
  const info = doc.DDBStreamBatchInfo;
  if (info === undefined) {
    if (doc.KinesisBatchInfo !== undefined)
      fail('it has KinesisBatchInfo: it is the on-failure record of a Kinesis stream, not a DynamoDB stream');
    if (doc.requestPayload !== undefined)
      fail('it is the record of an asynchronous invocation (requestPayload), with no DDBStreamBatchInfo');
    fail('it has no DDBStreamBatchInfo');
  }
  if (!isObject(info)) return fail('DDBStreamBatchInfo must be an object');

  const field = (name: string): unknown => {
    const v = info[name];
    if (v === undefined || v === null) fail(`DDBStreamBatchInfo.${name}: missing`);
    return v;
  };
  const text = (name: string): string => {
    const v = field(name);
    if (typeof v !== 'string' || v === '') fail(`DDBStreamBatchInfo.${name}: must be a non-empty string`);
    return v as string;
  };
  const sequence = (name: string): string => {
    const v = field(name);
    if (typeof v !== 'string')
      fail(
        `DDBStreamBatchInfo.${name}: must be a string of digits (a JSON number loses digits), not ${typeof v}`,
      );
    if (!SEQUENCE.test(v as string))
      fail(`DDBStreamBatchInfo.${name}: "${String(v)}" is not a string of 1 to 40 digits`);
    return v as string;
  };
  const time = (where: Json, name: string, path: string): number | undefined => {
    const v = where[name];
    if (v === undefined || v === null) return undefined;
    const ms = typeof v === 'string' ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms)) fail(`${path}: not an ISO-8601 time ("${String(v)}")`);
    return ms;
  };

  const shardId = text('shardId');
  const startSequenceNumber = sequence('startSequenceNumber');
  const endSequenceNumber = sequence('endSequenceNumber');
  if (BigInt(endSequenceNumber) < BigInt(startSequenceNumber))
    fail(
      `DDBStreamBatchInfo.endSequenceNumber ${endSequenceNumber} is before startSequenceNumber ${startSequenceNumber}`,
    );
  const batchSize = field('batchSize');
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH)
    fail(
      `DDBStreamBatchInfo.batchSize: must be an integer from 1 to ${MAX_BATCH}, not ${JSON.stringify(batchSize)}`,
    );
  const streamArn = text('streamArn');
  if (streamTableName(streamArn) === undefined)
    fail(
      `DDBStreamBatchInfo.streamArn: not a DynamoDB stream ARN ("${streamArn}"; expected arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>)`,
    );
  const first = time(
    info,
    'approximateArrivalOfFirstRecord',
    'DDBStreamBatchInfo.approximateArrivalOfFirstRecord',
  );
  const last = time(
    info,
    'approximateArrivalOfLastRecord',
    'DDBStreamBatchInfo.approximateArrivalOfLastRecord',
  );

  const context = isObject(doc.requestContext) ? doc.requestContext : {};
  const condition = typeof context.condition === 'string' ? context.condition : undefined;
  const invokes =
    typeof context.approximateInvokeCount === 'number' ? context.approximateInvokeCount : undefined;
  const sentAt = time(doc, 'timestamp', 'timestamp');
  return {
    shardId,
    startSequenceNumber,
    endSequenceNumber,
    streamArn,
    batchSize: batchSize as number,
    ...(first !== undefined ? { approximateArrivalOfFirstRecord: first } : {}),
    ...(last !== undefined ? { approximateArrivalOfLastRecord: last } : {}),
    ...(condition !== undefined ? { condition } : {}),
    ...(invokes !== undefined ? { approximateInvokeCount: invokes } : {}),
    ...(sentAt !== undefined ? { timestamp: sentAt } : {}),
  };
}

/**
 * The on-failure record Lambda would send for `info` (local mode's dead-letter queue hands these out, so
 * a rehearsal replays exactly what an operator takes from SQS). Arrival times are written to the second,
 * as Lambda writes them.
 */
export function streamDeadLetterBody(info: StreamDeadLetter): string {
  const seconds = (ms: number | undefined) =>
    ms === undefined ? undefined : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return JSON.stringify({
    requestContext: {
      ...(info.condition !== undefined ? { condition: info.condition } : {}),
      ...(info.approximateInvokeCount !== undefined
        ? { approximateInvokeCount: info.approximateInvokeCount }
        : {}),
    },
    version: '1.0',
    ...(info.timestamp !== undefined ? { timestamp: new Date(info.timestamp).toISOString() } : {}),
    DDBStreamBatchInfo: {
      shardId: info.shardId,
      startSequenceNumber: info.startSequenceNumber,
      endSequenceNumber: info.endSequenceNumber,
      approximateArrivalOfFirstRecord: seconds(info.approximateArrivalOfFirstRecord),
      approximateArrivalOfLastRecord: seconds(info.approximateArrivalOfLastRecord),
      batchSize: info.batchSize,
      streamArn: info.streamArn,
    },
  });
}
