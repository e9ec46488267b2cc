/**
 * The fault layer at the place real faults enter: the AWS SDK v3 client's middleware stack.
 *
 * The injecting middleware sits in the `deserialize` step at low priority, the innermost position,
 * right before the HTTP handler: so it runs once per attempt, inside the SDK's retry middleware
 * (`finalizeRequest`), and what it hands back goes through the SDK's own deserializer and error
 * classification. A throttle or a 5xx is a raw HTTP response (status, `x-amzn-errortype`, JSON body) that
 * the SDK parses into its `ProvisionedThroughputExceededException` / `ThrottlingException` /
 * `InternalServerError` with `$metadata.httpStatusCode` and `$retryable` set by the SDK itself; a
 * timeout and a connection reset are the errors `@smithy/node-http-handler` throws (a reset keeps
 * `code: 'ECONNRESET'` and is renamed `TimeoutError`, as that handler does). So the SDK retries exactly
 * what it would retry for the real fault, with its real backoff and retry quota, and surfaces the rest.
 *
 * A second middleware in the `initialize` step (outside the retries) counts requests, attempts and the
 * errors that reached the caller, per role: retries = attempts − requests.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { type FaultCall, type FaultDecision, FaultKind, type FaultPlan, FaultRole } from './plan';
import type { StreamTrim } from './trim';

/** Which table name is which role. A table not listed is `other`. */
export interface FaultTables {
  readonly legacy: string;
  readonly new: string;
  readonly control: string;
}

/**
 * Per role: commands sent, attempts (each retry is one more), errors that reached the caller (failed
 * conditions excepted: they are the apply rule's answers).
 */
export interface RoleCounts {
  requests: number;
  attempts: number;
  surfaced: number;
}

/** Counters shared by every client a `FaultLayer` instruments. */
export class FaultLayer {
  readonly byRole: Record<string, RoleCounts> = {};
  /** `stream-trim` (trim.ts): the consumer's pause and the trim horizon, on every streams client. */
  streamTrim: StreamTrim | undefined;

  constructor(
    readonly plan: FaultPlan,
    readonly tables: FaultTables,
  ) {}

  /** The role of a DynamoDB call from the tables it touches (the first listed table decides). */
  roleOf(tables: readonly string[]): FaultRole {
    for (const t of tables) {
      if (t === this.tables.legacy) return FaultRole.legacy;
      if (t === this.tables.new) return FaultRole.new;
      if (t === this.tables.control) return FaultRole.control;
    }
    return FaultRole.other;
  }

  /** SDK retries so far (all roles). */
  retries(): number {
    return Object.values(this.byRole).reduce((n, c) => n + c.attempts - c.requests, 0);
  }

  count(role: FaultRole): RoleCounts {
    return (this.byRole[role] ??= { requests: 0, attempts: 0, surfaced: 0 });
  }

  /**
   * Installs the layer on a client; `kind` says whether it is a DynamoDB or a Streams client. Use it as
   * the `instrument` hook of a `DynamoEndpoint` so every client built for that endpoint carries it.
   */
  instrument(client: DynamoDBClient | DynamoDBStreamsClient, kind: 'dynamodb' | 'streams'): void {
    const stack = client.middlewareStack as unknown as StackLike;
    const describe = (input: unknown, commandName: string | undefined): FaultCall => {
      const tables = kind === 'streams' ? streamTables(input) : tablesOf(input);
      return {
        role: kind === 'streams' ? FaultRole.streams : this.roleOf(tables),
        operation: (commandName ?? '').replace(/Command$/, ''),
        tables,
      };
    };
    stack.add(
      (next, context) => async (args) => {
        const call = describe(args.input, context.commandName);
        const counts = this.count(call.role);
        counts.requests++;
        try {
          return await next(args);
        } catch (err) {
          // A condition that did not hold is an answer (the apply rule's), not a fault.
          if (!EXPECTED_ERRORS.has((err as Error).name)) counts.surfaced++;
          throw err;
        }
      },
      { step: 'initialize', priority: 'high', name: 'dualreadFaultCounts', override: true },
    );
    if (kind === 'streams')
      // Inside the counts, outside the SDK's retries: a paused consumer's calls wait here, and an
      // iterator asked from TRIM_HORIZON is moved past the trim horizon before it is serialized.
      stack.add(
        (next, context) => async (args) => {
          const trim = this.streamTrim;
          if (!trim) return next(args);
          return trim.around(
            (context.commandName ?? '').replace(/Command$/, ''),
            (args.input ?? {}) as Record<string, unknown>,
            async (input) => (await next({ ...args, input })) as { output?: Record<string, unknown> },
          );
        },
        { step: 'initialize', priority: 'low', name: 'dualreadStreamTrim', override: true },
      );
    stack.add(
      (next, context) => async (args) => {
        const call = describe(args.input, context.commandName);
        this.count(call.role).attempts++;
        const fault = this.plan.decide(call);
        if (!fault) return next(args);
        if (fault.kind === FaultKind.latency) {
          await new Promise((r) => setTimeout(r, fault.latencyMs));
          return next(args);
        }
        return inject(fault);
      },
      { step: 'deserialize', priority: 'low', name: 'dualreadFaultInjection', override: true },
    );
  }
}

/** Errors that are normal answers of DynamoDB, not counted as surfaced faults. */
const EXPECTED_ERRORS = new Set(['ConditionalCheckFailedException', 'TransactionCanceledException']);

/** The structural slice of the SDK's middleware API used here (no @smithy types are imported). */
interface HandlerArgs {
  readonly input?: unknown;
}
type Handler = (args: HandlerArgs) => Promise<unknown>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;
interface StackLike {
  add(
    middleware: Middleware,
    options: {
      step: 'initialize' | 'deserialize';
      priority: 'high' | 'low';
      name: string;
      override: boolean;
    },
  ): void;
}

/** The error responses DynamoDB sends for each kind (awsJson1_0: the type in a header and in the body). */
const RESPONSES: Partial<Record<FaultKind, { status: number; type: string; message: string }>> = {
  [FaultKind.provisionedThroughputExceeded]: {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. (injected by the dualread fault layer)',
  },
  [FaultKind.throttling]: {
    status: 400,
    type: 'com.amazon.coral.availability#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput. (injected by the dualread fault layer)',
  },
  [FaultKind.internalError]: {
    status: 500,
    type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
    message: 'Internal server error (injected by the dualread fault layer)',
  },
  [FaultKind.unavailable]: {
    status: 503,
    type: 'com.amazonaws.dynamodb.v20120810#ServiceUnavailable',
    message: 'Service unavailable (injected by the dualread fault layer)',
  },
};

async function inject(fault: FaultDecision): Promise<{ response: unknown }> {
  if (fault.kind === FaultKind.timeout)
    // What node-http-handler throws when a request exceeds its timeout.
    throw Object.assign(new Error(`request timed out (injected fault "${fault.fault}")`), {
      name: 'TimeoutError',
    });
  if (fault.kind === FaultKind.connectionReset)
    // A socket error as node's http module reports it; node-http-handler renames it TimeoutError.
    throw Object.assign(new Error(`read ECONNRESET (injected fault "${fault.fault}")`), {
      name: 'TimeoutError',
      code: 'ECONNRESET',
      errno: -104,
      syscall: 'read',
    });
  const r = RESPONSES[fault.kind];
  if (!r) throw new Error(`fault layer: no response for kind ${fault.kind}`);
  const body = Buffer.from(JSON.stringify({ __type: r.type, message: r.message }), 'utf8');
  return {
    response: {
      statusCode: r.status,
      reason: undefined,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': String(body.byteLength),
        'x-amzn-errortype': r.type.replace(/^.*#/, ''),
        'x-amzn-requestid': `dualread-fault-${fault.fault}`,
      },
      body,
    },
  };
}

/** Table names a DynamoDB command input touches (single-table, batch and transaction shapes). */
export function tablesOf(input: unknown): string[] {
  if (!input || typeof input !== 'object') return [];
  const i = input as {
    TableName?: unknown;
    RequestItems?: unknown;
    TransactItems?: unknown;
    Statement?: unknown;
    Statements?: unknown;
  };
  if (typeof i.TableName === 'string') return [i.TableName];
  // PartiQL: ExecuteStatement's Statement, BatchExecuteStatement's Statements[].Statement (the
  // backfill's and CDC's batched put-if-absent inserts), ExecuteTransaction's TransactStatements.
  if (typeof i.Statement === 'string') return statementTables([i.Statement]);
  const statements = Array.isArray(i.Statements)
    ? i.Statements
    : Array.isArray((input as { TransactStatements?: unknown }).TransactStatements)
      ? ((input as { TransactStatements: unknown[] }).TransactStatements as unknown[])
      : undefined;
  if (statements)
    return statementTables(statements.map((s) => (s as { Statement?: unknown } | undefined)?.Statement));
  if (i.RequestItems && typeof i.RequestItems === 'object') return Object.keys(i.RequestItems);
  if (Array.isArray(i.TransactItems))
    return [
      ...new Set(
        i.TransactItems.flatMap((t: Record<string, { TableName?: string } | undefined>) =>
          Object.values(t).flatMap((op) => (op?.TableName ? [op.TableName] : [])),
        ),
      ),
    ];
  return [];
}

/** The tables PartiQL statements name (`INSERT INTO "t"`, `UPDATE t`, `DELETE FROM "t"`, `SELECT … FROM t`). */
function statementTables(statements: readonly unknown[]): string[] {
  const tables = new Set<string>();
  for (const statement of statements) {
    if (typeof statement !== 'string') continue;
    const m = /\b(?:INTO|FROM|UPDATE)\s+(?:"((?:[^"]|"")+)"|([A-Za-z0-9_.-]+))/i.exec(statement);
    if (m) tables.add(m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] as string));
  }
  return [...tables];
}

/** The table of a streams call, from its stream ARN (`arn:...:table/<name>/stream/<label>`). */
function streamTables(input: unknown): string[] {
  const arn = (input as { StreamArn?: unknown } | undefined)?.StreamArn;
  const m = typeof arn === 'string' ? /:table\/([^/]+)\/stream\//.exec(arn) : null;
  return m?.[1] ? [m[1]] : [];
}
