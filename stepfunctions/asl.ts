/**
 * A typed subset of the Amazon States Language (JSONPath flavour) for this project's definitions,
 * plus the helpers both runners share. The subset is what `aws-local-stepfunctions` 3.0.0 runs
 * faithfully (docs/architecture.md, "Where the local interpreter differs"): no JSONata, no `Assign`, no falsy Pass `Result`, no
 * `$$.State.RetryCount`. `ProcessorConfig` (Distributed Map) is allowed: AWS honours it, the local
 * interpreter runs the Map inline.
 */
import { DYNAMO_TRANSIENT_ERRORS } from '../core/common';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A retrier. */
export interface AslRetrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

/** A catcher. */
export interface AslCatcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath?: string;
}

interface Flow {
  readonly Next?: string;
  readonly End?: true;
  readonly Comment?: string;
}

interface Io {
  readonly InputPath?: string;
  readonly OutputPath?: string;
  readonly ResultPath?: string | null;
}

/** A Task state. */
export interface AslTask extends Flow, Io {
  readonly Type: 'Task';
  readonly Resource: string;
  readonly Parameters?: { readonly [key: string]: Json };
  readonly ResultSelector?: { readonly [key: string]: Json };
  readonly TimeoutSeconds?: number;
  readonly Retry?: readonly AslRetrier[];
  readonly Catch?: readonly AslCatcher[];
}

/** A Pass state (object `Result` only: the local interpreter ignores falsy ones). */
export interface AslPass extends Flow, Io {
  readonly Type: 'Pass';
  readonly Parameters?: { readonly [key: string]: Json };
  readonly Result?: { readonly [key: string]: Json };
}

/** A Wait state. */
export interface AslWait extends Flow, Io {
  readonly Type: 'Wait';
  readonly Seconds?: number;
  readonly SecondsPath?: string;
}

/** A Choice rule. */
export type AslChoiceRule = { readonly Variable: string; readonly Next?: string } & {
  readonly [op: string]: Json | undefined;
};

/** A Choice state. */
export interface AslChoice extends Io {
  readonly Type: 'Choice';
  readonly Choices: readonly (
    AslChoiceRule | { readonly And: readonly AslChoiceRule[]; readonly Next: string }
  )[];
  readonly Default?: string;
  readonly Comment?: string;
}

/** A Map state; `ItemProcessor.ProcessorConfig` selects INLINE or DISTRIBUTED. */
export interface AslMap extends Flow, Io {
  readonly Type: 'Map';
  readonly ItemsPath?: string;
  readonly ItemSelector?: { readonly [key: string]: Json };
  readonly MaxConcurrency?: number;
  readonly MaxConcurrencyPath?: string;
  readonly ItemProcessor: AslMachine & {
    readonly ProcessorConfig?: {
      readonly Mode: 'INLINE' | 'DISTRIBUTED';
      readonly ExecutionType?: 'STANDARD' | 'EXPRESS';
    };
  };
  readonly Label?: string;
  readonly ResultSelector?: { readonly [key: string]: Json };
  readonly Retry?: readonly AslRetrier[];
  readonly Catch?: readonly AslCatcher[];
}

/** A Succeed state. */
export interface AslSucceed extends Io {
  readonly Type: 'Succeed';
  readonly Comment?: string;
}

/** A Fail state. */
export interface AslFail {
  readonly Type: 'Fail';
  readonly Error?: string;
  readonly Cause?: string;
  readonly ErrorPath?: string;
  readonly CausePath?: string;
  readonly Comment?: string;
}

/** Any state. */
export type AslState = AslTask | AslPass | AslWait | AslChoice | AslMap | AslSucceed | AslFail;

/** A state machine (or a Map's item processor). */
export interface AslMachine {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: { readonly [name: string]: AslState };
  readonly TimeoutSeconds?: number;
}

/** The resource of a Lambda invocation through the optimized integration. */
export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
/** The resource that starts another execution (fire and forget). */
export const START_EXECUTION = 'arn:aws:states:::states:startExecution';

/** `${Name}`: a definition substitution CDK fills with a function ARN (see DefinitionBody + definitionSubstitutions). */
export function placeholder(name: string): string {
  return `\${${name}}`;
}

/** Names of every Task state in a machine (recursively through Map item processors), with their resource. */
export function taskStates(machine: AslMachine): Array<{ name: string; state: AslTask }> {
  const out: Array<{ name: string; state: AslTask }> = [];
  for (const [name, state] of Object.entries(machine.States)) {
    if (state.Type === 'Task') out.push({ name, state });
    if (state.Type === 'Map') out.push(...taskStates(state.ItemProcessor));
  }
  return out;
}

/** Names of every Wait state, recursively. */
export function waitStates(machine: AslMachine): string[] {
  const out: string[] = [];
  for (const [name, state] of Object.entries(machine.States)) {
    if (state.Type === 'Wait') out.push(name);
    if (state.Type === 'Map') out.push(...waitStates(state.ItemProcessor));
  }
  return out;
}

/** A copy of `machine` with every Map run INLINE (what the local interpreter does anyway), for a test that runs both shapes. */
export function withInlineMaps(machine: AslMachine): AslMachine {
  const states: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(machine.States)) {
    if (state.Type === 'Map') {
      const { ProcessorConfig: _pc, ...processor } = state.ItemProcessor;
      states[name] = {
        ...state,
        ItemProcessor: { ...withInlineMaps(processor), ProcessorConfig: { Mode: 'INLINE' } },
      };
    } else states[name] = state;
  }
  return { ...machine, States: states };
}

/** Transient Lambda service errors: always worth a retry. */
export const LAMBDA_TRANSIENT: AslRetrier = {
  ErrorEquals: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'Lambda.Unknown',
  ],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};

/**
 * DynamoDB throttling, 5xx, request timeouts and reset connections that outlasted a handler's own SDK
 * retries (`extra` adds the caller's own). `TimeoutError` is the SDK's name for both a timed-out request
 * and a reset socket (found by the fault layer, local/faults: without it one reset past the SDK's three
 * attempts failed a whole backfill).
 */
export function dynamoTransient(...extra: string[]): AslRetrier {
  return {
    ErrorEquals: [...DYNAMO_TRANSIENT_ERRORS, ...extra],
    IntervalSeconds: 5,
    MaxAttempts: 8,
    BackoffRate: 2,
    MaxDelaySeconds: 300,
    JitterStrategy: 'FULL',
  };
}

/**
 * A Lambda task of a dualread state machine: the function's placeholder and payload, the `Payload` of
 * the response selected into `resultPath`, a 15-minute timeout and the given retriers.
 */
export function lambdaTask(
  functionPlaceholder: string,
  payload: { readonly [key: string]: Json },
  resultPath: string | null,
  next: string,
  retry: readonly AslRetrier[],
) {
  return {
    Type: 'Task' as const,
    Resource: LAMBDA_INVOKE,
    Parameters: { FunctionName: placeholder(functionPlaceholder), Payload: payload },
    ResultSelector: { 'value.$': '$.Payload' },
    ResultPath: resultPath,
    TimeoutSeconds: 900,
    Retry: retry,
    Next: next,
  };
}
