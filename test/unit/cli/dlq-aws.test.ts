/**
 * The AWS side of `dualread dlq`: the SQS dead-letter queue (aws-sdk-client-mock: SQS has no local
 * server). Peeking leaves messages visible and de-duplicates repeated receives; a replay that cannot
 * be done hands its message back at once instead of hiding it for the visibility timeout.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { peekDeadLetters } from '../../../adapters/dead-letters';
import { ExitCode } from '../../../cli/exit-codes';
import { runCli } from '../../../cli/program';
import { streamDeadLetterBody } from '../../../core/cdc';
import { mockDualReadStack, recordingIo } from '../../helpers/aws-cli';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/111122223333/users-dlq';
const body = (table: string) =>
  streamDeadLetterBody({
    shardId: 'shardId-000001',
    startSequenceNumber: '100000000000000000001',
    endSequenceNumber: '100000000000000000009',
    streamArn: `arn:aws:dynamodb:eu-west-1:111122223333:table/${table}/stream/2026-12-01T00:00:00.000`,
    batchSize: 9,
    condition: 'RetryAttemptsExhausted',
  });

const sqs = mockClient(SQSClient);
beforeEach(() => sqs.reset());

/** The queue answers each receive with the next of `pages`, then with no message. */
const receives = (...pages: { MessageId: string; ReceiptHandle: string; Body: string }[][]): void => {
  pages
    .reduce((on, Messages) => on.resolvesOnce({ Messages }), sqs.on(ReceiveMessageCommand))
    .resolves({ Messages: [] });
};

describe('Function: peekDeadLetters', () => {
  it('receives with a visibility timeout of 0 until nothing new comes, parsing each body', async () => {
    // Arrange: the same message comes back on the second receive (visibility 0), then nothing new
    receives(
      [{ MessageId: 'm1', ReceiptHandle: 'h1', Body: body('users') }],
      [
        { MessageId: 'm1', ReceiptHandle: 'h1b', Body: body('users') },
        { MessageId: 'm2', ReceiptHandle: 'h2', Body: 'not json' },
      ],
    );

    // Act
    const messages = await peekDeadLetters(new SQSClient({ region: 'eu-west-1' }), QUEUE);

    // Assess
    expect(messages.map((m) => [m.messageId, m.deadLetter?.batchSize, m.problem !== undefined])).toEqual([
      ['m1', 9, false],
      ['m2', undefined, true],
    ]);
    expect(
      sqs.commandCalls(ReceiveMessageCommand).every((c) => c.args[0].input.VisibilityTimeout === 0),
    ).toBe(true);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });
});

describe('dualread dlq replay on AWS', () => {
  mockDualReadStack({ ControlTableName: 'control', UsersDeadLetterQueueUrl: QUEUE });

  it('hands a message it cannot replay back at once, keeps it, and names the fix', async () => {
    // Arrange: a message from another table's stream (another migration's queue)
    receives([{ MessageId: 'm1', ReceiptHandle: 'h1', Body: body('orders') }]);
    const io = recordingIo();

    // Act
    const code = await runCli(['--env', 'prod', 'dlq', 'replay'], io);

    // Assess
    expect(code).toBe(ExitCode.USAGE);
    expect(io.err()).toMatch(/ForeignStreamError: .*replay it with the migration of that table/);
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.VisibilityTimeout).toBe(900);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toEqual({
      QueueUrl: QUEUE,
      ReceiptHandle: 'h1',
      VisibilityTimeout: 0,
    });
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });
});
