/**
 * The rehearsal's read traffic: GETs through the local HTTP read API at a steady rate, in a seeded mix
 * of consistency modes, each recorded with its timing, route, staleness bound and the item answered
 * (`ReadRecord`), for the checker. To add a kind of read, add an entry to `READ_KINDS` (its weight and
 * how it builds the request).
 */
import { request } from 'node:http';
import type { Phase } from '../../core/control';
import { type Item, itemFromDynamoJson, itemToDynamoJson } from '../../core/model';
import { seededRandom } from '../seeded-random';
import { type ReadMode, type ReadRecord, ReadMode as Mode } from './checker';

/** A key the reader may read, and (for read-after) the ack time of a write of it it has seen. */
export interface ReadTarget {
  readonly key: Item;
  readonly readAfter?: number;
}

/** One kind of read: its mode, weight in the mix, and its request's headers. */
export interface ReadKind {
  readonly mode: ReadMode;
  readonly weight: number;
  /** Picks the key (and read-after time) to read; undefined when none fits yet. */
  pick(ctx: ReadContext): ReadTarget | undefined;
  headers(target: ReadTarget): Record<string, string>;
}

/** What a `ReadKind` picks from. */
export interface ReadContext {
  readonly random: () => number;
  /** Any key of the key space. */
  anyKey(): Item;
  /** A recently acknowledged write's key and ack time (read-your-writes), if any. */
  recentWrite(): ReadTarget | undefined;
}

/** The default mix: mostly bounded (the default mode), some strong, shadow and read-after. */
export const READ_KINDS: readonly ReadKind[] = [
  { mode: Mode.BOUNDED, weight: 6, pick: (c) => ({ key: c.anyKey() }), headers: () => ({}) },
  {
    mode: Mode.STRONG,
    weight: 1,
    pick: (c) => ({ key: c.anyKey() }),
    headers: () => ({ 'x-consistency': 'strong' }),
  },
  {
    mode: Mode.SHADOW,
    weight: 1,
    pick: (c) => ({ key: c.anyKey() }),
    headers: () => ({ 'x-consistency': 'shadow' }),
  },
  {
    mode: Mode.READ_AFTER,
    weight: 2,
    pick: (c) => c.recentWrite(),
    headers: (t) => ({ 'x-read-after': String(t.readAfter) }),
  },
];

/** Options of `ReadTraffic`. */
export interface ReadTrafficOptions {
  readonly url: string;
  readonly migrationId: string;
  readonly seed: number;
  readonly ratePerSecond: number;
  readonly concurrency?: number;
  readonly anyKey: (random: () => number) => Item;
  /** The phase the walk last set (recorded with each read). */
  readonly phase: () => Phase;
  readonly kinds?: readonly ReadKind[];
  readonly onRead?: (r: ReadRecord, latencyMs: number) => void;
}

/** Read traffic that runs until `stop()`. */
export class ReadTraffic {
  readonly reads: ReadRecord[] = [];
  private readonly random: () => number;
  private readonly recent: ReadTarget[] = [];
  private running = false;
  private loops: Array<Promise<void>> = [];

  constructor(private readonly o: ReadTrafficOptions) {
    this.random = seededRandom(o.seed + 7);
  }

  /** Told of every acknowledged legacy write (feeds read-after). */
  noteWrite(key: Item, ackedAt: number): void {
    this.recent.push({ key, readAfter: ackedAt });
    if (this.recent.length > 200) this.recent.shift();
  }

  start(): void {
    this.running = true;
    const started = Date.now();
    let issued = 0;
    const kinds = this.o.kinds ?? READ_KINDS;
    const total = kinds.reduce((s, k) => s + k.weight, 0);
    const ctx: ReadContext = {
      random: this.random,
      anyKey: () => this.o.anyKey(this.random),
      recentWrite: () =>
        this.recent.length ? this.recent[Math.floor(this.random() * this.recent.length)] : undefined,
    };
    const loop = async () => {
      while (this.running) {
        const due = started + (issued++ * 1000) / this.o.ratePerSecond;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (!this.running) return;
        let x = this.random() * total;
        const kind = kinds.find((k) => (x -= k.weight) < 0) ?? (kinds[0] as ReadKind);
        const target = kind.pick(ctx) ?? { key: ctx.anyKey() };
        const mode =
          target.readAfter === undefined && kind.mode === Mode.READ_AFTER ? Mode.BOUNDED : kind.mode;
        const headers = mode === kind.mode ? kind.headers(target) : {};
        await this.readOne(target, mode, headers);
      }
    };
    this.loops = Array.from({ length: this.o.concurrency ?? 4 }, loop);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async readOne(target: ReadTarget, mode: ReadMode, headers: Record<string, string>): Promise<void> {
    const phase = this.o.phase();
    const url =
      `${this.o.url}/migrations/${encodeURIComponent(this.o.migrationId)}/items?format=dynamodb&key=` +
      encodeURIComponent(JSON.stringify(itemToDynamoJson(target.key)));
    const startedAt = Date.now();
    const t0 = performance.now();
    let record: ReadRecord;
    try {
      const res = await httpGet(url, headers);
      const body = JSON.parse(res.body) as { item?: unknown; message?: string };
      const endedAt = Date.now();
      const bound = res.header('x-staleness-bound-ms');
      const served = res.header('x-served-by');
      record = {
        key: target.key,
        mode,
        phase,
        startedAt,
        endedAt,
        status: res.status,
        ...(served === 'legacy' || served === 'new' ? { servedBy: served } : {}),
        ...(res.header('x-route-reason') ? { reason: res.header('x-route-reason') as string } : {}),
        ...(res.status >= 400 && body.message ? { message: body.message } : {}),
        stalenessBoundMs: bound === undefined || bound === 'unbounded' ? null : Number(bound),
        ...(res.status === 200 && body.item ? { observed: itemFromDynamoJson(body.item) } : {}),
        ...(target.readAfter !== undefined && mode === Mode.READ_AFTER
          ? { readAfter: target.readAfter }
          : {}),
      };
    } catch (err) {
      record = {
        key: target.key,
        mode,
        phase,
        startedAt,
        endedAt: Date.now(),
        status: 0,
        message: (err as Error).message,
        stalenessBoundMs: null,
      };
    }
    this.reads.push(record);
    this.o.onRead?.(record, performance.now() - t0);
  }
}

/**
 * One GET on a fresh connection. Not `fetch`: its pooled keep-alive sockets race the server's idle
 * timeout, and a request sent on a socket the server is closing fails with "fetch failed" — a client
 * artefact the checker would count as an unanswered read.
 */
export function httpGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; header(name: string): string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = res.headers;
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          header: (name) => {
            const v = h[name];
            return Array.isArray(v) ? v[v.length - 1] : v;
          },
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
