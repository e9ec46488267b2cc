/**
 * The CDC dead-letter queue on AWS (SQS; one message per stream batch the sync function gave up on):
 * peek at its messages without taking them (`ReceiveMessage` with a visibility timeout of 0), take
 * some for a replay (hidden from other readers while it runs), and delete a message once its replay is
 * complete or hand it back at once when it is not. The SQS client is injected (tests mock it).
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type StreamDeadLetter, parseStreamDeadLetter } from '../core/cdc';

/** One message of the queue, parsed when it is an on-failure record. */
export interface QueuedDeadLetter {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** SQS's count of receives (peeks count too). */
  readonly receiveCount: number;
  /** When SQS received it, epoch ms. */
  readonly sentAt?: number;
  readonly deadLetter?: StreamDeadLetter;
  /** Why the body is not an on-failure record (the message cannot be replayed). */
  readonly problem?: string;
}

/** A client for `region` (the SDK's default chain without one). */
export function makeSqsClient(region?: string): SQSClient {
  return new SQSClient(region ? { region } : {});
}

function parse(m: Message): QueuedDeadLetter {
  const body = m.Body ?? '';
  const a = m.Attributes ?? {};
  const base = {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body,
    receiveCount: Number(a.ApproximateReceiveCount ?? 0),
    ...(a.SentTimestamp ? { sentAt: Number(a.SentTimestamp) } : {}),
  };
  try {
    return { ...base, deadLetter: parseStreamDeadLetter(body) };
  } catch (err) {
    return { ...base, problem: (err as Error).message };
  }
}

async function receive(
  sqs: SQSClient,
  queueUrl: string,
  visibilitySeconds: number,
  max: number,
): Promise<QueuedDeadLetter[]> {
  const seen = new Map<string, QueuedDeadLetter>();
  // Each receive returns up to 10 of the messages; with a visibility of 0 the same ones may come back,
  // so keep receiving until a receive brings nothing new (or enough).
  for (let empty = 0; seen.size < max && empty < 2;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - seen.size),
        VisibilityTimeout: visibilitySeconds,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    const fresh = (out.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    for (const m of fresh) seen.set(m.MessageId as string, parse(m));
    empty = fresh.length === 0 ? empty + 1 : 0;
  }
  return [...seen.values()];
}

/** Up to `max` messages, left in the queue and visible to others. */
export function peekDeadLetters(sqs: SQSClient, queueUrl: string, max = 100): Promise<QueuedDeadLetter[]> {
  return receive(sqs, queueUrl, 0, max);
}

/** Up to `max` messages, hidden from other readers for `visibilitySeconds` (a replay's time). */
export function takeDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  max: number,
  visibilitySeconds = 900,
): Promise<QueuedDeadLetter[]> {
  return receive(sqs, queueUrl, visibilitySeconds, max);
}

/** Deletes a message (after its replay was complete). */
export async function deleteDeadLetter(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string,
): Promise<void> {
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
}

/** Makes a taken message visible again at once (its replay was not complete). */
export async function releaseDeadLetter(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string,
): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: 0,
    }),
  );
}
