/**
 * Runs a state machine definition locally with aws-local-stepfunctions 3.0.0, every Task bound to a
 * local function, so the definition that CDK deploys is the one tests and local mode execute.
 *
 * - `lambdas`: Lambda tasks (`arn:aws:states:::lambda:invoke` with `FunctionName` = `${Placeholder}`)
 *   are bound by placeholder name to the real handler. The runner builds the `{ Payload, StatusCode }`
 *   envelope the optimized integration returns and rethrows a handler's error under the error's
 *   name, as Step Functions presents a Lambda's `errorType`, so Retry/Catch match as in AWS.
 * - `tasks`: any other Task (e.g. `states:startExecution`) bound by state name.
 * - Payloads and results go through JSON, as they do in AWS.
 * - Generic: the verification state machine (issue 5) uses it too.
 */
import './promise-polyfill';
import { randomUUID } from 'node:crypto';
import { NamedError } from '../core/common';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type AslMachine, type Json, LAMBDA_INVOKE, taskStates } from '../stepfunctions/asl';

/** A local Lambda handler: takes the payload, returns the result (JSON-serializable). */
export type LocalLambda = (payload: never) => Promise<unknown>;

/** A local binding of a non-Lambda Task: takes the state's effective input, returns its result. */
export type LocalTask = (input: Json) => Promise<Json>;

/** Options of `startLocalExecution`. */
export interface LocalRunOptions {
  /** Lambda handlers by definition placeholder name (`${Name}` in `FunctionName`). */
  readonly lambdas: Readonly<Record<string, LocalLambda>>;
  /** Other Task states by state name. */
  readonly tasks?: Readonly<Record<string, LocalTask>>;
  /** Wait states shortened to these milliseconds (tests). */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Retry intervals shortened to these milliseconds, by state name (tests). */
  readonly retryIntervalOverrides?: Readonly<Record<string, number>>;
  /** Execution name. @default a random UUID */
  readonly name?: string;
  /** ARN-like id of the state machine, for `$$.StateMachine.Id`. @default `local:stateMachine:<name>` */
  readonly stateMachineId?: string;
}

/** A running local execution. */
export interface LocalExecution {
  readonly executionId: string;
  readonly name: string;
  /** Output on success; rejects with `LocalExecutionFailedError` (error name and cause) on failure. */
  readonly result: Promise<Json>;
  /** Stops the execution (like StopExecution). Task invocations in flight run to their end, as in AWS. */
  abort(): void;
  /** Resolves when no task invocation of this execution is in flight any more. */
  settled(): Promise<void>;
  /** Events seen so far (state entered/exited, retries, map iterations, ...). */
  readonly events: readonly EventLog[];
}

/** A local execution failed; `error` is the name Step Functions would report. */
export class LocalExecutionFailedError extends NamedError {
  constructor(
    readonly error: string,
    readonly cause: string,
  ) {
    super(`execution failed with ${error}: ${cause}`);
  }
}

/** One event of a local execution's log (the interpreter does not export its type). */
export type EventLog = { readonly type: string; readonly timestamp: number; readonly [key: string]: unknown };

/** A Task of the definition has no local binding. */
export class UnboundTaskError extends NamedError {}

function errorName(err: unknown): string {
  const e = err as { name?: unknown } | undefined;
  return typeof e?.name === 'string' && e.name !== 'Error' ? e.name : 'Error';
}

/** Serializes as Lambda would: a result that is not JSON fails the task. */
function viaJson<T>(value: unknown): T {
  return (value === undefined ? null : JSON.parse(JSON.stringify(value))) as T;
}

/**
 * Definitions (as JSON) this process has validated. Validating one (asl-validator) costs 100-300 ms of
 * CPU, and every local run starts an execution, and another per continuation: a 20,000-item local
 * backfill spent about 5 % of its time there. An invalid definition is never recorded, so it is refused
 * at every start.
 */
const validDefinitions = new Set<string>();

/** The library's state machine for `definition`, validated the first time this process meets it. */
function validatedMachine(definition: AslMachine): StateMachine {
  const json = JSON.stringify(definition);
  const known = validDefinitions.has(json);
  const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
    validationOptions: known ? { noValidate: true } : { checkArn: false },
  });
  validDefinitions.add(json);
  return machine;
}

/** Starts a local execution of `definition` with `input`. */
export function startLocalExecution(
  definition: AslMachine,
  input: Json,
  options: LocalRunOptions,
): LocalExecution {
  const name = options.name ?? randomUUID();
  const stateMachineId =
    options.stateMachineId ?? `local:stateMachine:${definition.Comment?.slice(0, 20) ?? 'machine'}`;
  const executionId = `${stateMachineId.replace(':stateMachine:', ':execution:')}:${name}`;
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    const done = () => inFlight.delete(p);
    p.then(done, done);
    return p;
  };

  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  for (const { name: stateName, state } of taskStates(definition)) {
    if (state.Resource === LAMBDA_INVOKE) {
      const fn = state.Parameters?.FunctionName;
      const placeholderName = typeof fn === 'string' ? /^\$\{(.+)\}$/.exec(fn)?.[1] : undefined;
      const lambda = placeholderName ? options.lambdas[placeholderName] : undefined;
      if (!lambda) {
        throw new UnboundTaskError(
          `Task "${stateName}" invokes ${String(fn)}, which has no local handler; pass it in options.lambdas`,
        );
      }
      handlers[stateName] = async (taskInput: Json) => {
        const payload = viaJson<never>((taskInput as { Payload?: Json })?.Payload ?? null);
        try {
          const out = await track(lambda(payload));
          return { ExecutedVersion: '$LATEST', Payload: viaJson<Json>(out), StatusCode: 200 };
        } catch (err) {
          // Step Functions reports a Lambda's errorType (the error's name) as the state's error.
          const e = new Error((err as Error)?.message ?? String(err));
          e.name = errorName(err);
          throw e;
        }
      };
    } else {
      const task = options.tasks?.[stateName];
      if (!task) {
        throw new UnboundTaskError(
          `Task "${stateName}" (${state.Resource}) has no local binding; pass it in options.tasks`,
        );
      }
      handlers[stateName] = (taskInput: Json) => track(task(taskInput));
    }
  }

  const machine = validatedMachine(definition);
  const run = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      ...(options.waitTimeOverrides ? { waitTimeOverrides: { ...options.waitTimeOverrides } } : {}),
      ...(options.retryIntervalOverrides
        ? { retryIntervalOverrides: { ...options.retryIntervalOverrides } }
        : {}),
    },
    context: {
      Execution: { Id: executionId, Name: name, Input: input as never, StartTime: new Date().toISOString() },
      StateMachine: { Id: stateMachineId, Name: stateMachineId.split(':').pop() },
    },
  });
  const events: EventLog[] = [];
  void (async () => {
    try {
      for await (const ev of run.eventLogs) events.push(ev as unknown as EventLog);
    } catch {
      // the log ends with the execution
    }
  })();
  const result = run.result.then(
    (out) => out as Json,
    (err: unknown) => {
      const cause = (err as { cause?: unknown })?.cause;
      if (cause)
        throw new LocalExecutionFailedError(errorName(cause), (cause as Error).message ?? String(cause));
      throw new LocalExecutionFailedError(errorName(err), (err as Error)?.message ?? String(err));
    },
  );
  return {
    executionId,
    name,
    result,
    abort: () => run.abort(),
    settled: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    events,
  };
}

/** A run that may continue as new executions (backfill, verification): the chain of its executions. */
export interface LocalChain {
  /** Executions so far, first to last (more than one when the run continued as new). */
  readonly executions: readonly LocalExecution[];
  /** Output of the last execution of the chain; rejects with the failure of any of them. */
  readonly result: Promise<Json>;
  /** Stops the current execution (like StopExecution). */
  abort(): void;
  /** Resolves when no handler of any execution is in flight. */
  settled(): Promise<void>;
}

/** Options of `startLocalChain`: those of one execution, plus the state that continues as new. */
export interface LocalChainOptions extends Omit<LocalRunOptions, 'tasks' | 'stateMachineId'> {
  /** The Task state that starts a new execution of the same state machine with its `Input`. */
  readonly continueAsNewState: string;
  /** Id (ARN) of the state machine, as the executions see it. */
  readonly stateMachineId: string;
}

/**
 * Starts a local execution of `definition` and, each time it reaches `continueAsNewState`, a new
 * execution with that Task's `Input` (as the deployed state machine starts one of itself); the chain's
 * result is the output of the execution that ended without continuing.
 */
export function startLocalChain(definition: AslMachine, input: Json, options: LocalChainOptions): LocalChain {
  const { continueAsNewState, name, ...runOptions } = options;
  const executions: LocalExecution[] = [];
  let resolveChain!: (v: Json) => void;
  let rejectChain!: (e: unknown) => void;
  const result = new Promise<Json>((res, rej) => {
    resolveChain = res;
    rejectChain = rej;
  });
  result.catch(() => undefined);

  function launch(execInput: Json, executionName?: string): void {
    let continued = false;
    const execution = startLocalExecution(definition, execInput, {
      ...runOptions,
      tasks: {
        [continueAsNewState]: async (taskInput) => {
          continued = true;
          // Started after this execution's result settles, as a new execution is independent of its parent.
          setImmediate(() => launch((taskInput as { Input: Json }).Input));
          return {
            ExecutionArn: `${options.stateMachineId}:continued-${executions.length}`,
            StartDate: new Date().toISOString(),
          };
        },
      },
      ...(executionName ? { name: executionName } : {}),
    });
    executions.push(execution);
    execution.result.then(
      (out) => {
        if (!continued) resolveChain(out);
      },
      (err: unknown) => rejectChain(err),
    );
  }

  launch(input, name);
  return {
    executions,
    result,
    abort: () => executions[executions.length - 1]?.abort(),
    settled: async () => {
      for (const e of executions) await e.settled();
    },
  };
}
