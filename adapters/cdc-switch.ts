/**
 * Turning CDC off (and on again) for the cutover (docs/cutover.md). On AWS it is the sync function's
 * DynamoDB Streams event source mapping (`UpdateEventSourceMapping(Enabled=false)`), found from the
 * stack output `<Migration>SyncFunctionName` by `ListEventSourceMappings`; enabled means any state but
 * `Disabled` (a mapping that is `Disabling` still delivers). Locally it is the `CDC#SWITCH` control
 * item the stream poller obeys (local/stream-poller.ts), and enabled is the poller's own registration
 * (`pollerHeartbeatEnabled`): the switch is the request, the registration the confirmation.
 */
import {
  type EventSourceMappingConfiguration,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { DualReadError } from '../core/common';
import { CDC_SWITCH_KEY, type CdcSwitchDoc } from '../core/control';
import type { ControlStore } from './control-store';
import { pollerHeartbeatEnabled } from './migration-facts';
import { type RequiredOutput, type StackOutputs, requiredOutput } from './stack-outputs';
import { tokenPages } from './token-pages';

/** CDC as the cutover switches it. */
export interface CdcSwitch {
  /** Asks CDC to stop; `enabled()` confirms it. */
  disable(reason: string): Promise<void>;
  /** Asks CDC to run again (an aborted cutover). */
  enable(reason: string): Promise<void>;
  /** True while CDC may still apply records; undefined when it cannot be told. */
  enabled(): Promise<boolean | undefined>;
}

/** The sync function has no DynamoDB Streams event source mapping (or the stack output is missing). */
export class CdcMappingNotFoundError extends DualReadError {}

/** The stack output naming the sync function. */
const SYNC_FUNCTION_OUTPUT: RequiredOutput = {
  name: 'SyncFunctionName',
  missing: CdcMappingNotFoundError,
  remedy:
    "redeploy it with this version of dualread (the cutover disables that function's event source mapping)",
};

/** AWS: the sync function's event source mapping(s) on the legacy stream. */
export class EventSourceMappingSwitch implements CdcSwitch {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionName: string,
    /** Only mappings of this stream (the legacy table's); all of the function's when undefined. */
    private readonly streamArn?: string,
  ) {}

  /** A switch for the stack's outputs, or a named error when the output is missing. */
  static fromOutputs(outputs: StackOutputs, prefix: string, region?: string): EventSourceMappingSwitch {
    const fn = requiredOutput(outputs, prefix, SYNC_FUNCTION_OUTPUT);
    return new EventSourceMappingSwitch(
      new LambdaClient(region ? { region } : {}),
      fn,
      outputs[`${prefix}LegacyStreamArn`],
    );
  }

  async mappings(): Promise<EventSourceMappingConfiguration[]> {
    const out: EventSourceMappingConfiguration[] = [];
    const pages = tokenPages(
      'Marker',
      (start) =>
        this.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: this.functionName, ...start })),
      (page) => page.NextMarker,
    );
    for await (const page of pages) out.push(...(page.EventSourceMappings ?? []));
    const mine = out.filter((m) => !this.streamArn || m.EventSourceArn === this.streamArn);
    if (!mine.length)
      throw new CdcMappingNotFoundError(
        `function ${this.functionName} has no event source mapping${this.streamArn ? ` on ${this.streamArn}` : ''}: check the stack (the sync function reads the legacy stream through one)`,
      );
    return mine;
  }

  private async set(enabled: boolean): Promise<void> {
    for (const m of await this.mappings())
      await this.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: enabled }));
  }

  disable(): Promise<void> {
    return this.set(false);
  }

  enable(): Promise<void> {
    return this.set(true);
  }

  async enabled(): Promise<boolean | undefined> {
    try {
      return (await this.mappings()).some((m) => m.State !== 'Disabled');
    } catch (err) {
      if (err instanceof CdcMappingNotFoundError) return undefined;
      throw err;
    }
  }
}

/** Local mode: the `CDC#SWITCH` item, confirmed by the poller's `CDC#CONSUMER` registration. */
export class ControlItemCdcSwitch implements CdcSwitch {
  private readonly registered: () => Promise<boolean>;

  constructor(
    private readonly store: ControlStore,
    private readonly actor: string,
    private readonly now: () => number = Date.now,
  ) {
    this.registered = pollerHeartbeatEnabled(store, now);
  }

  private async set(enabled: boolean, reason: string): Promise<void> {
    const doc: CdcSwitchDoc = { enabled, at: this.now(), actor: this.actor, reason };
    await this.store.putUnversioned(CDC_SWITCH_KEY, { ...doc });
  }

  disable(reason: string): Promise<void> {
    return this.set(false, reason);
  }

  enable(reason: string): Promise<void> {
    return this.set(true, reason);
  }

  enabled(): Promise<boolean> {
    return this.registered();
  }
}
