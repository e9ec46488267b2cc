/**
 * The two implementations of `CdcStatusPort` (core/cdc/consuming.ts): in AWS, the sync Lambda's event
 * source mapping, the legacy table's current stream and an iterator-age bound from the frontier; in
 * local mode, the `CDC#CONSUMER` control item of the local stream poller and the legacy table's
 * current stream on DynamoDB Local.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { ControlKey } from '../core/control';
import {
  type CdcConsumerDoc,
  type CdcStatus,
  type CdcStatusPort,
  type EventSourceMappingView,
  type IteratorAgeReading,
  evaluateCdcConsumer,
  evaluateEventSourceMappings,
  iteratorAgeFromFrontier,
} from '../core/cdc';
import type { ControlStore } from './control-store';

/**
 * The legacy table's current stream: DescribeTable's `LatestStreamArn` while a stream is enabled;
 * undefined when none is (a disabled stream's ARN stays in `LatestStreamArn`, so that is checked).
 */
export async function currentStreamArn(
  client: DynamoDBClient,
  tableName: string,
): Promise<string | undefined> {
  const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
  return out.Table?.StreamSpecification?.StreamEnabled ? out.Table.LatestStreamArn : undefined;
}

/**
 * An upper bound of CDC's iterator age from the published frontier (core/cdc/consuming.ts). It stands in
 * for CloudWatch's `IteratorAge` metric of the sync function, which would need
 * `@aws-sdk/client-cloudwatch` (not a dependency yet); both give an `IteratorAgeReading`.
 */
export function frontierIteratorAge(
  store: ControlStore,
  now: () => number,
): () => Promise<IteratorAgeReading> {
  return async () => iteratorAgeFromFrontier(await store.getFrontier(), now());
}

/** Options of `EventSourceMappingCdcStatus`. */
export interface EventSourceMappingCdcStatusOptions {
  readonly lambda: LambdaClient;
  /** A client for DescribeTable of the legacy table. */
  readonly dynamo: DynamoDBClient;
  readonly syncFunctionName: string;
  readonly legacyTableName: string;
  /** The stream the sync function is configured to consume. */
  readonly streamArn: string;
  /** How far behind CDC is (`frontierIteratorAge`). */
  readonly iteratorAge: () => Promise<IteratorAgeReading>;
  /** @default DEFAULT_MAX_ITERATOR_AGE_MS (1 hour) */
  readonly maxIteratorAgeMs?: number;
}

/** AWS: ListEventSourceMappings for the sync function and the legacy stream, DescribeTable, the frontier. */
export class EventSourceMappingCdcStatus implements CdcStatusPort {
  constructor(private readonly o: EventSourceMappingCdcStatusOptions) {}

  async check(): Promise<CdcStatus> {
    const [mappings, latestStreamArn, iteratorAge] = await Promise.all([
      this.mappings(),
      currentStreamArn(this.o.dynamo, this.o.legacyTableName),
      this.o.iteratorAge(),
    ]);
    return evaluateEventSourceMappings(mappings, this.o.streamArn, this.o.syncFunctionName, {
      latestStreamArn,
      iteratorAge,
      ...(this.o.maxIteratorAgeMs !== undefined ? { maxIteratorAgeMs: this.o.maxIteratorAgeMs } : {}),
    });
  }

  private async mappings(): Promise<EventSourceMappingView[]> {
    const mappings: EventSourceMappingView[] = [];
    let marker: string | undefined;
    do {
      const out = await this.o.lambda.send(
        new ListEventSourceMappingsCommand({
          FunctionName: this.o.syncFunctionName,
          EventSourceArn: this.o.streamArn,
          ...(marker ? { Marker: marker } : {}),
        }),
      );
      for (const m of out.EventSourceMappings ?? []) {
        mappings.push({
          uuid: m.UUID,
          eventSourceArn: m.EventSourceArn,
          state: m.State,
          startingPosition: m.StartingPosition,
          lastProcessingResult: m.LastProcessingResult,
        });
      }
      marker = out.NextMarker;
    } while (marker);
    return mappings;
  }
}

/** Builds the Lambda client of `EventSourceMappingCdcStatus`. */
export function makeLambdaClient(region?: string): LambdaClient {
  return new LambdaClient({ region: region ?? process.env.AWS_REGION ?? 'us-east-1' });
}

/** Options of `ControlItemCdcStatus`. */
export interface ControlItemCdcStatusOptions {
  /** A client for DescribeTable of the legacy table. */
  readonly dynamo: DynamoDBClient;
  readonly legacyTableName: string;
  /** The stream the poller must consume, when configured. */
  readonly streamArn?: string;
  readonly maxHeartbeatAgeMs?: number;
  readonly maxIteratorAgeMs?: number;
}

/** Local mode: the poller's `CDC#CONSUMER` item with a fresh heartbeat, on the table's current stream. */
export class ControlItemCdcStatus implements CdcStatusPort {
  constructor(
    private readonly store: ControlStore,
    private readonly now: () => number,
    private readonly o: ControlItemCdcStatusOptions,
  ) {}

  async check(): Promise<CdcStatus> {
    const [doc, latestStreamArn] = await Promise.all([
      this.store.get<CdcConsumerDoc>(ControlKey.CDC_CONSUMER),
      currentStreamArn(this.o.dynamo, this.o.legacyTableName),
    ]);
    return evaluateCdcConsumer(doc, this.now(), {
      latestStreamArn,
      ...(this.o.streamArn !== undefined ? { expectedStreamArn: this.o.streamArn } : {}),
      ...(this.o.maxHeartbeatAgeMs !== undefined ? { maxHeartbeatAgeMs: this.o.maxHeartbeatAgeMs } : {}),
      ...(this.o.maxIteratorAgeMs !== undefined ? { maxIteratorAgeMs: this.o.maxIteratorAgeMs } : {}),
    });
  }
}
