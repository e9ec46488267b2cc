/**
 * Benchmark harness. A benchmark is a module in bench/ exporting `benchmark: Benchmark`. It measures
 * a candidate and a baseline side by side in the same run and returns their ratio; the harness prints
 * the details and ends with one JSON line `{"bench","ratio","target","pass",...}` so runs compare.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient } from '../adapters/dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type DynamoLocal, startDynamoLocal } from '../local/dynamodb-local';

/** What a benchmark returns. */
export interface BenchResult {
  /** candidate ÷ baseline in the benchmark's own direction (documented by each benchmark). */
  readonly ratio: number;
  /** The target ratio. */
  readonly target: number;
  /** Whether the ratio meets the target. */
  readonly pass: boolean;
  /** Anything else measured (throughputs, percentiles). */
  readonly details: Readonly<Record<string, number | string>>;
}

/** The environment a benchmark runs in. */
export interface BenchContext {
  /** A DynamoDB Local started for this run. */
  readonly dynamo: DynamoLocal;
  readonly client: DynamoDBClient;
  readonly endpoint: { endpoint: string; region: string; credentials: typeof LOCAL_CREDENTIALS };
  /** Print a progress line. */
  log(line: string): void;
}

/** A benchmark module's export. */
export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** Runs one benchmark against a fresh DynamoDB Local and returns its result line. */
export async function runBenchmark(
  bench: Benchmark,
  log: (line: string) => void = console.log,
): Promise<string> {
  const dynamo = await startDynamoLocal({ maxHeap: '4g' });
  const endpoint = { endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const client = makeDynamoClient(endpoint);
  try {
    log(`bench ${bench.name}: ${bench.description}`);
    const result = await bench.run({ dynamo, client, endpoint, log });
    for (const [k, v] of Object.entries(result.details)) log(`  ${k}: ${v}`);
    return JSON.stringify({
      bench: bench.name,
      ratio: Number(result.ratio.toFixed(4)),
      target: result.target,
      pass: result.pass,
      ...result.details,
    });
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

/** Percentile of a sorted-or-not sample (nearest rank). */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return Number.NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
