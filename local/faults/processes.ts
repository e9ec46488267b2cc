/**
 * Process-level faults: a process of the system under test (the sync Lambda, the frontier tracker, a
 * backfill or verification worker) killed mid-batch and restarted from what is persisted.
 *
 * A kill is simulated where a crashed process stops: its AWS SDK clients. Each incarnation of a process
 * is built on its own endpoint (`incarnation()`), whose clients carry a middleware that counts the calls
 * matching the kill trigger and, at a seeded call, kills the incarnation: that call and every later one
 * fail with `ProcessKilledError` (nothing more leaves the dead process), while the calls already sent
 * land (a page half written, a batch half applied). Whatever the process held in memory (buffers, the
 * tracker's ledger, a handler's caches) is dropped with it: its owner builds a new incarnation from
 * scratch, which starts from what is persisted (checkpoints, the control table, the event source's
 * position), and calls `restarted()`.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoEndpoint } from '../../adapters/dynamodb';
import { DualReadError } from '../../core/common';
import { seededRandom } from '../seeded-random';
import { type FaultTables, tablesOf } from './middleware';

/** What a killed process's calls fail with: it is gone, and so is everything it held in memory. */
export class ProcessKilledError extends DualReadError {
  constructor(process: string, incarnation: number) {
    super(
      `the ${process} process (incarnation ${incarnation}) was killed by the fault layer (--faults kill-${process}); ` +
        'its owner restarts it from what is persisted',
    );
  }
}

/** Which calls count towards a kill, and how many of them an incarnation lives. */
export interface KillTrigger {
  /** Tables whose calls count (by role); `streams` counts the Streams API. @default every call */
  readonly roles?: ReadonlyArray<'legacy' | 'new' | 'control' | 'streams'>;
  /** Operations that count (`PutItem`, `BatchExecuteStatement`, ...). @default every operation */
  readonly operations?: readonly string[];
  /** An incarnation is killed at a matching call drawn uniformly in [min, max] (1-based). */
  readonly afterCalls: readonly [number, number];
  /** Kills at most this many times in a run; the last incarnation lives on. */
  readonly maxKills: number;
}

/** One kill, as the report shows it. */
export interface KillEvent {
  readonly incarnation: number;
  /** Ms since the process was first built. */
  readonly atMs: number;
  /** The call it died at (`new PutItem`, ...). */
  readonly call: string;
  /**
   * The sync Lambda: the batch of the invocation it died in, how many of its records had their apply
   * write land before the kill (applied: new's item carries their sequence number), and the incarnation
   * the event source's retry of the batch ran on (absent until the retry lived through it).
   */
  readonly batch?: {
    /** Sequence numbers of its first and last record. */
    readonly first: string;
    readonly last: string;
    readonly records: number;
    readonly appliedBeforeKill: number;
    readonly retriedBy?: number;
  };
}

/** Where one Scan started: the segment and its ExclusiveStartKey (stable JSON; null at the start). */
export interface ScanStart {
  readonly incarnation: number;
  readonly table: string;
  readonly segment: number;
  readonly startKey: string | null;
}

/** JSON with object keys sorted, so two spellings of one key compare equal. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** One incarnation: its endpoint, and whether it is dead. */
export interface Incarnation {
  readonly number: number;
  readonly endpoint: DynamoEndpoint;
  readonly dead: boolean;
}

type AnyClient = DynamoDBClient | DynamoDBStreamsClient;
interface StackLike {
  add(
    mw: (
      next: (a: { input?: unknown }) => Promise<unknown>,
      ctx: { commandName?: string },
    ) => (a: { input?: unknown }) => Promise<unknown>,
    o: { step: 'initialize'; priority: 'high'; name: string; override: boolean },
  ): void;
}

/** A process that the fault layer kills on a seeded schedule, and its incarnations. */
export class KillableProcess {
  kills = 0;
  restarts = 0;
  readonly events: KillEvent[] = [];
  /** Every Scan an incarnation sent: where it started (what a resumed run is judged by). */
  readonly scans: ScanStart[] = [];
  private readonly random: () => number;
  private current?: { number: number; dead: boolean; clients: AnyClient[] };
  private readonly started: number;

  constructor(
    readonly name: string,
    private readonly trigger: KillTrigger,
    private readonly tables: FaultTables,
    seed: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.random = seededRandom(seed);
    this.started = clock();
  }

  /**
   * A new incarnation on `base` (which may carry the fault layer); the previous one's clients are
   * destroyed (the dead process's sockets close with it).
   */
  incarnation(base: DynamoEndpoint): Incarnation {
    for (const c of this.current?.clients ?? []) c.destroy();
    const [min, max] = this.trigger.afterCalls;
    const state = { number: (this.current?.number ?? 0) + 1, dead: false, clients: [] as AnyClient[] };
    this.current = state;
    let left = this.kills < this.trigger.maxKills ? min + Math.floor(this.random() * (max - min + 1)) : -1;
    const endpoint: DynamoEndpoint = {
      ...base,
      instrument: (client, kind) => {
        base.instrument?.(client, kind);
        state.clients.push(client);
        (client.middlewareStack as unknown as StackLike).add(
          (next, ctx) => async (args) => {
            if (state.dead) throw new ProcessKilledError(this.name, state.number);
            if (ctx.commandName === 'ScanCommand') this.noteScan(state.number, args.input);
            const call = this.describe(kind, args.input, ctx.commandName);
            if (left > 0 && call && --left === 0 && this.kills < this.trigger.maxKills) {
              state.dead = true;
              this.kills++;
              this.events.push({ incarnation: state.number, atMs: this.clock() - this.started, call });
              throw new ProcessKilledError(this.name, state.number);
            }
            return next(args);
          },
          { step: 'initialize', priority: 'high', name: `dualreadKill-${this.name}`, override: true },
        );
      },
    };
    return {
      number: state.number,
      endpoint,
      get dead() {
        return state.dead;
      },
    };
  }

  /** The sync Lambda: the batch the incarnation died in, and how many of its records were applied. */
  killedBatch(
    incarnation: number,
    batch: { first: string; last: string; records: number; appliedBeforeKill: number },
  ): void {
    const i = this.events.findIndex((e) => e.incarnation === incarnation);
    const e = this.events[i];
    if (e) this.events[i] = { ...e, batch };
  }

  /** The sync Lambda: the killed batch of `incarnation` was retried on incarnation `by`, which lived. */
  retried(incarnation: number, by: number): void {
    const i = this.events.findIndex((e) => e.incarnation === incarnation);
    const e = this.events[i];
    if (e?.batch && e.batch.retriedBy === undefined)
      this.events[i] = { ...e, batch: { ...e.batch, retriedBy: by } };
  }

  /** Counts a restart (the owner built the next incarnation). */
  restarted(): void {
    this.restarts++;
  }

  /** Destroys the clients of the last incarnation (end of run). */
  close(): void {
    for (const c of this.current?.clients ?? []) c.destroy();
  }

  private noteScan(incarnation: number, input: unknown): void {
    const i = input as { TableName?: string; Segment?: number; ExclusiveStartKey?: unknown };
    this.scans.push({
      incarnation,
      table: i.TableName ?? '',
      segment: i.Segment ?? 0,
      startKey: i.ExclusiveStartKey === undefined ? null : stableJson(i.ExclusiveStartKey),
    });
  }

  /** `role Operation` if the call counts towards the kill, else undefined. */
  private describe(kind: 'dynamodb' | 'streams', input: unknown, command: string | undefined) {
    const operation = (command ?? '').replace(/Command$/, '');
    const t = this.trigger;
    if (t.operations && !t.operations.includes(operation)) return undefined;
    const tables = kind === 'streams' ? [] : tablesOf(input);
    const role =
      kind === 'streams'
        ? 'streams'
        : tables.includes(this.tables.new)
          ? 'new'
          : tables.includes(this.tables.control)
            ? 'control'
            : tables.includes(this.tables.legacy)
              ? 'legacy'
              : undefined;
    if (t.roles && (!role || !t.roles.includes(role))) return undefined;
    return `${role ?? 'other'} ${operation}`;
  }
}
