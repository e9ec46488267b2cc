/**
 * The two implementations of `CdcStatusPort` (core/cdc-status.ts): in AWS, the sync Lambda's event
 * source mapping; in local mode, the `CDC#CONSUMER` control item of the local stream poller.
 */
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { ControlKey } from '../core/control';
import {
  type CdcConsumerDoc,
  type CdcStatus,
  type CdcStatusPort,
  type EventSourceMappingView,
  evaluateCdcConsumer,
  evaluateEventSourceMappings,
} from '../core/cdc-status';
import type { ControlStore } from './control-store';

/** AWS: ListEventSourceMappings for the sync function and the legacy stream. */
export class EventSourceMappingCdcStatus implements CdcStatusPort {
  constructor(
    private readonly lambda: LambdaClient,
    readonly syncFunctionName: string,
    readonly streamArn: string,
  ) {}

  async check(): Promise<CdcStatus> {
    const mappings: EventSourceMappingView[] = [];
    let marker: string | undefined;
    do {
      const out = await this.lambda.send(
        new ListEventSourceMappingsCommand({
          FunctionName: this.syncFunctionName,
          EventSourceArn: this.streamArn,
          ...(marker ? { Marker: marker } : {}),
        }),
      );
      for (const m of out.EventSourceMappings ?? []) {
        mappings.push({
          uuid: m.UUID,
          eventSourceArn: m.EventSourceArn,
          state: m.State,
          startingPosition: m.StartingPosition,
        });
      }
      marker = out.NextMarker;
    } while (marker);
    return evaluateEventSourceMappings(mappings, this.streamArn, this.syncFunctionName);
  }
}

/** Builds the Lambda client of `EventSourceMappingCdcStatus`. */
export function makeLambdaClient(region?: string): LambdaClient {
  return new LambdaClient({ region: region ?? process.env.AWS_REGION ?? 'us-east-1' });
}

/** Local mode: the poller's `CDC#CONSUMER` item with a fresh heartbeat. */
export class ControlItemCdcStatus implements CdcStatusPort {
  constructor(
    private readonly store: ControlStore,
    private readonly now: () => number,
    readonly streamArn?: string,
    readonly maxHeartbeatAgeMs?: number,
  ) {}

  async check(): Promise<CdcStatus> {
    const doc = await this.store.get<CdcConsumerDoc>(ControlKey.CDC_CONSUMER);
    return evaluateCdcConsumer(doc, this.now(), this.streamArn, this.maxHeartbeatAgeMs);
  }
}
