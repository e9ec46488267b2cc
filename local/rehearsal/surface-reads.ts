/**
 * The rehearsal's query-surface workload (issue 16): every declared surface (the example's `by-email`)
 * queried through the local read API's `GET /migrations/{id}/query?surface=…` in every consistency
 * mode in turn, whole page sequences followed through their tokens, with partition values sampled from
 * the legacy surface's own index (so the queries hit real partitions). Per surface it counts reads by
 * mode and by serving store, errors, and the shadow comparisons of its pages (from the read API's
 * comparison events); `extras` flattens them into the report (`surface.<name>.<what>`).
 */
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { fromSdkItem } from '../../adapters/dynamodb';
import { MISMATCH_CLASSES } from '../../core/control';
import type { AttributeValue, Migration, QuerySurface } from '../../core/model';
import { seededRandom } from '../seeded-random';
import { httpGet } from './readers';

/** Consistency modes the workload cycles through. */
const MODES = ['legacy', 'shadow', 'bounded', 'strong', 'new'] as const;
/** Most partition values kept per surface. */
const SAMPLE = 200;

/** Counts of one surface. */
export interface SurfaceTally {
  readonly reads: Record<string, number>;
  readonly servedBy: Record<string, number>;
  errors: number;
  pages: number;
  compared: number;
  mismatches: number;
}

/** Options of `SurfaceReads`. */
export interface SurfaceReadsOptions {
  readonly migration: Migration;
  readonly client: DynamoDBClient;
  readonly seed: number;
  readonly ratePerSecond: number;
}

const textOf = (v: AttributeValue): string | undefined =>
  'S' in v ? v.S : 'N' in v ? v.N : 'B' in v ? Buffer.from(v.B).toString('base64') : undefined;

/** Query traffic on the declared surfaces, until `stop()`. */
export class SurfaceReads {
  readonly tallies = new Map<string, SurfaceTally>();
  private readonly surfaces: QuerySurface[];
  private readonly random: () => number;
  private running = false;
  private loop?: Promise<void>;
  private url = '';

  constructor(private readonly o: SurfaceReadsOptions) {
    this.surfaces = Object.values(o.migration.queries).filter((q) => !q.inferred);
    this.random = seededRandom(o.seed + 16);
    for (const q of this.surfaces)
      this.tallies.set(q.name, { reads: {}, servedBy: {}, errors: 0, pages: 0, compared: 0, mismatches: 0 });
  }

  /** A shadow comparison event of the read API (those of a surface's pages carry its name). */
  compared(e: { readonly surface?: string; readonly class: string }): void {
    const t = e.surface === undefined ? undefined : this.tallies.get(e.surface);
    if (!t) return;
    if (e.class !== 'within-lag' && e.class !== 'index-lag') t.compared += 1;
    if (MISMATCH_CLASSES.includes(e.class)) t.mismatches += 1;
  }

  /** Starts querying the read API at `url`. */
  start(url: string): void {
    this.url = url;
    if (!this.surfaces.length) return;
    this.running = true;
    this.loop = (async () => {
      const started = Date.now();
      let issued = 0;
      let values = new Map<string, string[]>();
      let sampledAt = 0;
      while (this.running) {
        if (Date.now() - sampledAt > 2_000) {
          values = await this.sample().catch(() => values);
          sampledAt = Date.now();
        }
        const due = started + (issued * 1000) / this.o.ratePerSecond;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        if (!this.running) return;
        const surface = this.surfaces[issued % this.surfaces.length] as QuerySurface;
        const mode = MODES[
          Math.floor(issued / this.surfaces.length) % MODES.length
        ] as (typeof MODES)[number];
        issued += 1;
        const pool = values.get(surface.name) ?? [];
        const value = pool[Math.floor(this.random() * pool.length)];
        if (value !== undefined) await this.query(surface.name, value, mode);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The tallies as flat report extras: `surface.<name>.reads.<mode>`, `.served.<store>`, `.compared`, ... */
  extras(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, t] of this.tallies) {
      for (const [mode, n] of Object.entries(t.reads)) out[`surface.${name}.reads.${mode}`] = n;
      for (const [store, n] of Object.entries(t.servedBy)) out[`surface.${name}.served.${store}`] = n;
      out[`surface.${name}.pages`] = t.pages;
      out[`surface.${name}.errors`] = t.errors;
      out[`surface.${name}.compared`] = t.compared;
      out[`surface.${name}.mismatches`] = t.mismatches;
    }
    return out;
  }

  /** Partition values of each surface, from a page of its legacy index (or table). */
  private async sample(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const q of this.surfaces) {
      const page = await this.o.client.send(
        new ScanCommand({
          TableName: this.o.migration.legacyTable.tableName,
          ...(q.legacy.index ? { IndexName: q.legacy.index } : {}),
          Limit: SAMPLE,
        }),
      );
      const values = new Set<string>();
      for (const raw of page.Items ?? []) {
        const v = fromSdkItem(raw)[q.legacy.key.partitionKey.name];
        const text = v && textOf(v);
        if (text) values.add(text);
      }
      out.set(q.name, [...values]);
    }
    return out;
  }

  /** One query, its pages followed through their tokens (at most 10). */
  private async query(surface: string, partitionKey: string, mode: string): Promise<void> {
    const t = this.tallies.get(surface) as SurfaceTally;
    t.reads[mode] = (t.reads[mode] ?? 0) + 1;
    let token: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const params = new URLSearchParams({ surface, partitionKey, consistency: mode, limit: '25' });
      if (token) params.set('nextToken', token);
      try {
        const res = await httpGet(
          `${this.url}/migrations/${encodeURIComponent(this.o.migration.id)}/query?${params}`,
          {},
        );
        const body = JSON.parse(res.body) as { nextToken?: string };
        const served = res.header('x-served-by') ?? 'none';
        t.pages += 1;
        // A 409 (the store a sequence was pinned to may no longer serve it) ends the sequence, as a client restarts.
        if (res.status !== 200) {
          if (res.status !== 409) t.errors += 1;
          return;
        }
        t.servedBy[served] = (t.servedBy[served] ?? 0) + 1;
        token = body.nextToken;
        if (!token) return;
      } catch {
        t.errors += 1;
        return;
      }
    }
  }
}

/** One surface's line of the report: what `extras` flattened, back per surface. */
export interface SurfaceRow {
  readonly surface: string;
  readonly pages: number;
  /** Reads per mode, e.g. `bounded 12, strong 9`. */
  readonly reads: string;
  readonly fromLegacy: number;
  readonly fromNew: number;
  readonly compared: number;
  readonly mismatches: number;
  readonly errors: number;
}

/** The per-surface rows of a report's extras (`surface.<name>.*`), by surface name. */
export function surfaceRows(extra: Readonly<Record<string, number>>): SurfaceRow[] {
  const by = new Map<string, Map<string, number>>();
  for (const [k, v] of Object.entries(extra)) {
    const m = /^surface\.([^.]+)\.(.+)$/.exec(k);
    if (!m) continue;
    const [, name, what] = m as unknown as [string, string, string];
    if (!by.has(name)) by.set(name, new Map());
    by.get(name)?.set(what, v);
  }
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([surface, t]) => ({
      surface,
      pages: t.get('pages') ?? 0,
      reads:
        [...t.entries()]
          .filter(([k]) => k.startsWith('reads.'))
          .map(([k, n]) => `${k.slice(6)} ${n}`)
          .join(', ') || 'none',
      fromLegacy: t.get('served.legacy') ?? 0,
      fromNew: t.get('served.new') ?? 0,
      compared: t.get('compared') ?? 0,
      mismatches: t.get('mismatches') ?? 0,
      errors: t.get('errors') ?? 0,
    }));
}
