/**
 * The dead-letter queues of a migration (the sync's event source mapping, the control rule's target):
 * SQS-managed encryption, TLS only, 14 days retention, and the acknowledgement of the two cdk-nag
 * findings every such queue raises because it IS a dead-letter queue (no redrive policy, no DLQ of its
 * own).
 *
 * A function, not a construct: the queue is created in the caller's scope, so its construct path (and
 * logical id) is the caller's own.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Why a dead-letter queue has no redrive policy (`redrive`) and no dead-letter queue (`sqs3`). */
export interface DeadLetterQueueReasons {
  readonly redrive: string;
  readonly sqs3: string;
}

/** The queue `DeadLetterQueue` (in `scope`) with `overrides` over the defaults; its findings acknowledged. */
export function deadLetterQueue(
  scope: Construct,
  reasons: DeadLetterQueueReasons,
  overrides?: sqs.QueueProps,
): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    ...overrides,
  });
  Validations.of(queue).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason: reasons.redrive });
  Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: reasons.sqs3 });
  return queue;
}
