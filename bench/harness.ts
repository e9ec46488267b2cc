/**
 * Benchmark harness. A benchmark is a module in bench/ exporting `benchmark: Benchmark`. It measures
 * a candidate and a baseline side by side in the same run and returns their ratio; the harness prints
 * the details and ends with one JSON line `{"bench","ratio","target","pass",...}` so runs compare.
 */
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runPool, scanSegmentPage } from '../adapters/backfill-io';
import { makeDynamoClient, toSdkItem } from '../adapters/dynamodb';
import type { Item } from '../core/model';
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

/**
 * Reads every segment of a parallel Scan of `table` to its end, the segments concurrently, and calls
 * `onPage` with the items of each page (the raw-scan baselines of the backfill and verify benchmarks).
 */
export async function scanAllSegments(
  client: DynamoDBClient,
  table: string,
  scan: { readonly totalSegments: number; readonly limit: number },
  onPage: (items: readonly Item[]) => Promise<void> | void,
): Promise<void> {
  await Promise.all(
    Array.from({ length: scan.totalSegments }, async (_, segment) => {
      let start: Item | undefined;
      do {
        const page = await scanSegmentPage(client, table, {
          segment,
          totalSegments: scan.totalSegments,
          limit: scan.limit,
          ...(start ? { exclusiveStartKey: start } : {}),
        });
        await onPage(page.items);
        start = page.lastEvaluatedKey;
      } while (start);
    }),
  );
}

/**
 * Puts `items` into `table` with unconditional BatchWriteItem (25 items per request, `concurrency`
 * requests in flight), sending unprocessed items again until none is left. Returns how many were written.
 */
export async function batchPutAll(
  client: DynamoDBClient,
  table: string,
  items: readonly Item[],
  concurrency: number,
): Promise<number> {
  const batches: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let written = 0;
  await runPool(batches, concurrency, async (batch) => {
    let pending = batch.map((item) => ({ PutRequest: { Item: toSdkItem(item) } }));
    while (pending.length) {
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      const left = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
      written += pending.length - left.length;
      pending = left;
    }
  });
  return written;
}
