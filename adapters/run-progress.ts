/**
 * What `dualread backfill status` and `dualread status` read to show a backfill's progress: the
 * `SEGMENT#` checkpoints of the control table and the legacy table's approximate item count
 * (DescribeTable's `ItemCount`, which DynamoDB refreshes about every six hours; exact on DynamoDB Local).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SegmentCheckpoint } from '../core/backfill';
import { ControlKey } from '../core/control';
import type { ControlStore } from './control-store';

/** The backfill's segment checkpoints, in segment order. */
export function segmentCheckpoints(store: ControlStore): Promise<SegmentCheckpoint[]> {
  return store.list<SegmentCheckpoint>(ControlKey.segment(0).replace(/\d+$/, ''));
}

/** The table's approximate item count, or undefined when DescribeTable cannot tell (absent, denied). */
export async function approximateItemCount(
  dynamo: DynamoDBClient,
  tableName: string,
): Promise<number | undefined> {
  try {
    const out = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    return out.Table?.ItemCount;
  } catch {
    return undefined;
  }
}
