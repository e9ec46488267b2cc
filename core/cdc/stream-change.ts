/**
 * One change read from a legacy table's stream, in the core's own terms (no SDK, no Lambda types).
 * Adapters build it from a Lambda `DynamoDBRecord` or a `GetRecords` record; the apply rule
 * (`apply-rule.ts`) turns it into a conditional write.
 */
import type { Item } from '../model';

/** What happened to the item (the stream's `eventName`). */
export const ChangeKind = { INSERT: 'INSERT', MODIFY: 'MODIFY', REMOVE: 'REMOVE' } as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

/** A stream record of a legacy table. */
export interface StreamChange {
  readonly eventName: ChangeKind;
  /** The legacy key of the item. */
  readonly keys: Item;
  /** The item after the change (INSERT/MODIFY; absent for REMOVE). */
  readonly newImage?: Item;
  /** The stream sequence number as the stream gives it (decimal digits, unpadded). */
  readonly sequenceNumber: string;
  /**
   * `ApproximateCreationDateTime` in epoch milliseconds. AWS rounds it to the second and DynamoDB
   * Local truncates it to the minute, so nothing orders by it (docs/design.md §4.4); it is metadata, the
   * record-age metric and evidence for the order-violation check.
   */
  readonly approximateCreationTime: number;
}
