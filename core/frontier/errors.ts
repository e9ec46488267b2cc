/**
 * The frontier tracker's errors: a stream position that expired or was trimmed (the tracker recovers
 * from both), and a setting out of range.
 */
import { DualReadError } from '../common';

/** Base of the tracker's errors. */
export class FrontierError extends DualReadError {}

/** A shard iterator expired (they live 15 minutes); the tracker gets a new one from its position. */
export class IteratorExpiredError extends FrontierError {
  constructor(readonly shardId: string) {
    super(`shard iterator of ${shardId} expired; get a new one after the last sequence number read`);
  }
}

/** A tracker setting is out of range; the message names it and the allowed values. */
export class FrontierConfigError extends FrontierError {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`frontier tracker setting ${setting}: ${problem}`);
  }
}

/** The position asked for is older than the stream's 24 h retention. */
export class TrimmedDataError extends FrontierError {
  constructor(readonly shardId: string) {
    super(`records of ${shardId} after the tracker's position were trimmed; reading resumes at TRIM_HORIZON`);
  }
}
