/**
 * The batch-get path of the read engine: every key through the single-key path, at most `concurrency`
 * keys at once; one result per key, in request order (each key is routed and answered on its own).
 */
import type { Item } from '../../../core/model';
import type { KeyResult } from './types';

/** Reads `keys` with `read`, `concurrency` at a time, into results in the order of `keys`. */
export async function readKeys(
  read: (key: Item) => Promise<KeyResult>,
  keys: readonly Item[],
  concurrency: number,
): Promise<KeyResult[]> {
  const results: KeyResult[] = new Array<KeyResult>(keys.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < keys.length; i = next++) results[i] = await read(keys[i] as Item);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  return results;
}
