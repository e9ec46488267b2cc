/**
 * "Is CDC consuming the legacy stream from TRIM_HORIZON?" — the fact that gates the move to
 * BACKFILLING and the start of a backfill (DESIGN §4.3: checked, not assumed).
 *
 * In AWS the fact comes from the sync Lambda's event source mapping; in local mode from the
 * `CDC#CONSUMER` control item the local stream poller writes and keeps fresh. Both adapters implement
 * `CdcStatusPort`; the decisions on what they read are the pure functions below.
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
}

/** Default maximum age of the local poller's heartbeat before it counts as stopped. */
export const CDC_HEARTBEAT_MAX_AGE_MS = 30_000;

/**
 * Decides from the local poller's control item. Consuming requires: the item exists, names the
 * expected stream (when one is given), started from TRIM_HORIZON, is Enabled, and its heartbeat is
 * at most `maxAgeMs` old.
 */
export function evaluateCdcConsumer(
  doc: CdcConsumerDoc | undefined,
  now: number,
  expectedStreamArn?: string,
  maxAgeMs: number = CDC_HEARTBEAT_MAX_AGE_MS,
): CdcStatus {
  if (!doc) {
    return {
      consuming: false,
      reason:
        'no CDC#CONSUMER control item: the local stream poller is not running; start it (local mode) first',
    };
  }
  if (expectedStreamArn !== undefined && doc.streamArn !== expectedStreamArn) {
    return {
      consuming: false,
      reason: `the stream poller consumes ${doc.streamArn}, not the legacy stream ${expectedStreamArn}`,
    };
  }
  if (doc.startingPosition !== 'TRIM_HORIZON') {
    return {
      consuming: false,
      reason: `the stream poller started from ${doc.startingPosition}; it must start from TRIM_HORIZON so no change made before the backfill is missed`,
    };
  }
  if (doc.state !== 'Enabled') {
    return { consuming: false, reason: `the stream poller is ${doc.state}, not Enabled` };
  }
  const age = now - doc.heartbeatAt;
  if (age > maxAgeMs) {
    return {
      consuming: false,
      reason: `the stream poller's last heartbeat is ${age} ms old (limit ${maxAgeMs} ms): it has stopped; restart it`,
    };
  }
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
}

/**
 * Decides from the sync Lambda's event source mappings (ListEventSourceMappings for the function and
 * stream): consuming when one of them is Enabled with StartingPosition TRIM_HORIZON.
 */
export function evaluateEventSourceMappings(
  mappings: readonly EventSourceMappingView[],
  streamArn: string,
  functionName: string,
): CdcStatus {
  const forStream = mappings.filter((m) => m.eventSourceArn === streamArn);
  if (forStream.length === 0) {
    return {
      consuming: false,
      reason: `function ${functionName} has no event source mapping for stream ${streamArn}: deploy the stream sync first`,
    };
  }
  const good = forStream.find((m) => m.state === 'Enabled' && m.startingPosition === 'TRIM_HORIZON');
  if (good) {
    return {
      consuming: true,
      reason: `event source mapping ${good.uuid ?? '?'} of ${functionName} is Enabled from TRIM_HORIZON`,
    };
  }
  const seen = forStream
    .map((m) => `${m.uuid ?? '?'}: ${m.state ?? '?'} from ${m.startingPosition ?? '?'}`)
    .join('; ');
  return {
    consuming: false,
    reason: `no event source mapping of ${functionName} for ${streamArn} is Enabled from TRIM_HORIZON (${seen}); enable it and retry`,
  };
}
