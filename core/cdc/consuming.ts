/**
 * "Is CDC consuming the legacy stream from TRIM_HORIZON, and keeping up?" — the fact that gates the
 * move to BACKFILLING and the start of a backfill (checked, not assumed: docs/correctness.md). Consuming means
 * all of:
 *
 * 1. the stream CDC reads is the legacy table's current stream (`LatestStreamArn`): a stream disabled
 *    and enabled again is a new stream, and a consumer of the old one misses every later change;
 * 2. the consumer is enabled and started from TRIM_HORIZON;
 * 3. its last processing attempt did not fail (`LastProcessingResult` is not `PROBLEM: ...`);
 * 4. it is far from losing records to the stream's 24-hour retention: its iterator age is known and at
 *    most `maxIteratorAgeMs` (1 hour by default).
 *
 * In AWS the facts come from the sync Lambda's event source mapping (ListEventSourceMappings), the
 * legacy table (DescribeTable) and, for the iterator age, the frontier: every record created before
 * `F` is applied, hence was read, so the consumer's iterator age is at most `now - F` (an upper bound,
 * so the check can only err towards refusing; CloudWatch's `IteratorAge` would be the direct reading
 * and can replace it behind the same `IteratorAgeReading`). In local mode they come from the
 * `CDC#CONSUMER` control item the local stream poller writes and keeps fresh (it reports its last
 * result and the age of the last record it delivered) and DescribeTable on DynamoDB Local. Both
 * adapters implement `CdcStatusPort`; the decisions on what they read are the pure functions below.
 */

/** Answer of a CDC status check. `reason` says why (and, when not consuming, what to do). */
export interface CdcStatus {
  readonly consuming: boolean;
  readonly reason: string;
}

/** Port: checks whether CDC is consuming the legacy stream from TRIM_HORIZON. */
export interface CdcStatusPort {
  check(): Promise<CdcStatus>;
}

/** The `CDC#CONSUMER` control item written by the local stream poller. */
export interface CdcConsumerDoc {
  readonly streamArn: string;
  readonly startingPosition: string;
  readonly state: string;
  /** Epoch ms since which the poller has been consuming. */
  readonly since: number;
  /** Epoch ms of the poller's last heartbeat. */
  readonly heartbeatAt: number;
  /** `OK`, or `PROBLEM: <why>` when its last delivery failed (as the event source mapping says). */
  readonly lastProcessingResult?: string;
  /** Age of the last record it delivered, when delivered (0 before any). */
  readonly iteratorAgeMs?: number;
}

/** Default maximum age of the local poller's heartbeat before it counts as stopped. */
export const CDC_HEARTBEAT_MAX_AGE_MS = 30_000;

/** DynamoDB Streams keeps records for 24 hours. */
export const STREAM_RETENTION_MS = 24 * 3600 * 1000;

/** Default largest iterator age at which CDC still counts as keeping up: far from the retention. */
export const DEFAULT_MAX_ITERATOR_AGE_MS = 3600 * 1000;

/** How far behind the stream's newest records CDC may be; `ageMs` undefined when it cannot be told. */
export interface IteratorAgeReading {
  readonly ageMs?: number;
  /** Where the reading comes from (said in the reason). */
  readonly source: string;
}

/** Facts about the legacy table and CDC's progress, besides the consumer's registration. */
export interface CdcHealth {
  /** The legacy table's current stream (DescribeTable `LatestStreamArn`); undefined when it has none. */
  readonly latestStreamArn: string | undefined;
  readonly iteratorAge: IteratorAgeReading;
  /** @default DEFAULT_MAX_ITERATOR_AGE_MS */
  readonly maxIteratorAgeMs?: number;
}

/** Why `streamArn` is not the stream to consume, or undefined when it is the table's current one. */
export function streamProblem(streamArn: string, latestStreamArn: string | undefined): string | undefined {
  if (latestStreamArn === undefined)
    return `the legacy table has no stream enabled (CDC is configured for ${streamArn}); enable a NEW_AND_OLD_IMAGES stream and redeploy with its ARN`;
  if (latestStreamArn !== streamArn)
    return (
      `${streamArn} is not the table's current stream ${latestStreamArn} (the stream was disabled and enabled again: ` +
      'the old one receives no changes); set legacyTable.streamArn to the current stream, redeploy, and let CDC consume it first'
    );
  return undefined;
}

/** Why a last processing result is a problem, or undefined when it is not. */
export function processingProblem(
  what: string,
  lastProcessingResult: string | undefined,
): string | undefined {
  if (lastProcessingResult?.startsWith('PROBLEM'))
    return `the last processing result of ${what} is "${lastProcessingResult}": CDC is failing; fix it first (docs/runbook.md "CDC dead letters")`;
  return undefined;
}

/** Why an iterator age is too far behind (or unknown), or undefined when CDC keeps up. */
export function iteratorAgeProblem(
  reading: IteratorAgeReading,
  maxAgeMs: number = DEFAULT_MAX_ITERATOR_AGE_MS,
): string | undefined {
  if (reading.ageMs === undefined)
    return `cannot tell how far behind the stream CDC is (${reading.source}); a backfill needs CDC far from the 24-hour retention`;
  if (reading.ageMs > maxAgeMs)
    return (
      `CDC is up to ${reading.ageMs} ms behind the stream (${reading.source}), more than ${maxAgeMs} ms: too close to the ` +
      '24-hour retention, after which records are lost unread; let CDC catch up first (docs/runbook.md "CDC lag")'
    );
  return undefined;
}

/**
 * An upper bound of CDC's iterator age from the frontier: every record created before `F` is applied,
 * so none older than `now - F` is still unread.
 */
export function iteratorAgeFromFrontier(
  frontier: { readonly frontier: number; readonly computedAt: number } | undefined,
  now: number,
): IteratorAgeReading {
  if (!frontier || !(frontier.frontier > 0))
    return { source: 'no frontier published yet: the frontier tracker has not proven any time' };
  return {
    ageMs: Math.max(0, now - frontier.frontier),
    source: `bound by the frontier F = ${new Date(frontier.frontier).toISOString()}, computed at ${new Date(frontier.computedAt).toISOString()}`,
  };
}

/** Options of `evaluateCdcConsumer`. */
export interface CdcConsumerCheck {
  /** The legacy table's current stream (DescribeTable on DynamoDB Local). */
  readonly latestStreamArn: string | undefined;
  /** The stream the poller must consume, when configured. */
  readonly expectedStreamArn?: string;
  /** @default CDC_HEARTBEAT_MAX_AGE_MS */
  readonly maxHeartbeatAgeMs?: number;
  /** @default DEFAULT_MAX_ITERATOR_AGE_MS */
  readonly maxIteratorAgeMs?: number;
}

/**
 * Decides from the local poller's control item. Consuming requires: the item exists, names the
 * expected stream (when one is given) which is the table's current stream, started from TRIM_HORIZON,
 * is Enabled, its heartbeat is at most `maxHeartbeatAgeMs` old, its last delivery did not fail, and
 * the age of the last record it delivered is known and at most `maxIteratorAgeMs`.
 */
export function evaluateCdcConsumer(
  doc: CdcConsumerDoc | undefined,
  now: number,
  check: CdcConsumerCheck,
): CdcStatus {
  const no = (reason: string): CdcStatus => ({ consuming: false, reason });
  if (!doc)
    return no(
      'no CDC#CONSUMER control item: the local stream poller is not running; start it (local mode) first',
    );
  if (check.expectedStreamArn !== undefined && doc.streamArn !== check.expectedStreamArn)
    return no(
      `the stream poller consumes ${doc.streamArn}, not the legacy stream ${check.expectedStreamArn}`,
    );
  const stream = streamProblem(doc.streamArn, check.latestStreamArn);
  if (stream) return no(stream);
  if (doc.startingPosition !== 'TRIM_HORIZON') {
    return no(
      `the stream poller started from ${doc.startingPosition}; it must start from TRIM_HORIZON so no change made before the backfill is missed`,
    );
  }
  if (doc.state !== 'Enabled') return no(`the stream poller is ${doc.state}, not Enabled`);
  const maxAge = check.maxHeartbeatAgeMs ?? CDC_HEARTBEAT_MAX_AGE_MS;
  const age = now - doc.heartbeatAt;
  if (age > maxAge)
    return no(
      `the stream poller's last heartbeat is ${age} ms old (limit ${maxAge} ms): it has stopped; restart it`,
    );
  const processing = processingProblem('the stream poller', doc.lastProcessingResult);
  if (processing) return no(processing);
  const behind = iteratorAgeProblem(
    doc.iteratorAgeMs === undefined
      ? { source: 'the stream poller reports no iterator age' }
      : { ageMs: doc.iteratorAgeMs, source: 'age of the last record the stream poller delivered' },
    check.maxIteratorAgeMs,
  );
  if (behind) return no(behind);
  return {
    consuming: true,
    reason: `local stream poller consuming ${doc.streamArn} from TRIM_HORIZON since ${doc.since}`,
  };
}

/** What an event source mapping of the sync Lambda looks like, as far as the check needs. */
export interface EventSourceMappingView {
  readonly uuid?: string;
  readonly eventSourceArn?: string;
  readonly state?: string;
  readonly startingPosition?: string;
  /** `OK`, `No records processed`, or `PROBLEM: ...`. */
  readonly lastProcessingResult?: string;
}

/**
 * Decides from the sync Lambda's event source mappings (ListEventSourceMappings for the function and
 * stream) and `health`: consuming when the configured stream is the table's current one, one mapping
 * is Enabled with StartingPosition TRIM_HORIZON and its last processing result is not a problem, and
 * the iterator age is known and under the limit.
 */
export function evaluateEventSourceMappings(
  mappings: readonly EventSourceMappingView[],
  streamArn: string,
  functionName: string,
  health: CdcHealth,
): CdcStatus {
  const no = (reason: string): CdcStatus => ({ consuming: false, reason });
  const stream = streamProblem(streamArn, health.latestStreamArn);
  if (stream) return no(stream);
  const forStream = mappings.filter((m) => m.eventSourceArn === streamArn);
  if (forStream.length === 0)
    return no(
      `function ${functionName} has no event source mapping for stream ${streamArn}: deploy the stream sync first`,
    );
  const good = forStream.find((m) => m.state === 'Enabled' && m.startingPosition === 'TRIM_HORIZON');
  if (!good) {
    const seen = forStream
      .map((m) => `${m.uuid ?? '?'}: ${m.state ?? '?'} from ${m.startingPosition ?? '?'}`)
      .join('; ');
    return no(
      `no event source mapping of ${functionName} for ${streamArn} is Enabled from TRIM_HORIZON (${seen}); enable it and retry`,
    );
  }
  const processing = processingProblem(`event source mapping ${good.uuid ?? '?'}`, good.lastProcessingResult);
  if (processing) return no(processing);
  const behind = iteratorAgeProblem(health.iteratorAge, health.maxIteratorAgeMs);
  if (behind) return no(behind);
  return {
    consuming: true,
    reason: `event source mapping ${good.uuid ?? '?'} of ${functionName} is Enabled from TRIM_HORIZON on the current stream (last result ${good.lastProcessingResult ?? 'not reported'}; iterator age ${health.iteratorAge.ageMs} ms, ${health.iteratorAge.source})`,
  };
}
