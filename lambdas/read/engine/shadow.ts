/**
 * The shadow path of the read engine: legacy answers, new is read on the next turn of the event loop,
 * and the two are compared in the background (`core/read/shadow.ts` classifies). A difference is
 * re-checked once `F − skew` has passed the time legacy was read, with both stores read again; the
 * result goes to telemetry. Pending comparisons are tracked so tests and the local server can drain
 * them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  type Item,
  type QuerySurface,
  itemToDynamoJson,
  toDynamoJson,
} from '../../../core/model';
import {
  type Admission,
  type PageItems,
  type Recheck,
  ShadowClass,
  classifyDifference,
  classifySurfaceDifference,
  isKeyPinned,
  comparePages,
  compareItems,
} from '../../../core/read';
import type { ControlCache } from '../control-cache';
import type { ReadTelemetry } from '../telemetry';
import type { LegacyOutcome, NewOutcome, ReadStores } from './stores';
import type { ReadOptions, ReadTarget } from './types';

/** What a key's comparison needs: both keys, when legacy was read, legacy's answer and new's (pending). */
type ItemComparison = [
  legacyKey: Item,
  newKey: Item,
  legacyReadAt: number,
  legacy: LegacyOutcome,
  newP: Promise<NewOutcome>,
];

/**
 * What a surface page's comparison needs: the surface and partition, when legacy was read, legacy's
 * page, new's (pending), and a re-read of both for the re-check.
 */
type PageComparison = [
  surface: QuerySurface,
  partition: AttributeValue,
  legacyReadAt: number,
  legacy: PageItems,
  freshP: Promise<PageItems | 'unmappable' | undefined>,
  readBoth: () => Promise<[PageItems, PageItems] | undefined>,
];

/** Shadow comparisons of one migration, with the ones still running. */
export class ShadowCompare {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly target: ReadTarget,
    private readonly stores: ReadStores,
    private readonly cache: ControlCache,
    private readonly telemetry: ReadTelemetry,
    private readonly options: ReadOptions,
    private readonly now: () => number,
  ) {}

  /**
   * Reads the key in new on the next turn of the event loop: the authority's request is sent first,
   * so building the shadow request never delays the answer (both are then in flight together).
   */
  readNew(newKey: Item, admission: Admission): Promise<NewOutcome> {
    return new Promise<NewOutcome>((resolve) =>
      setImmediate(() => resolve(this.stores.readNew(newKey, admission))),
    );
  }

  /** Compares legacy's answer with new's in the background (`drain` waits for it). */
  compare(...comparison: ItemComparison): void {
    this.track(this.run(...comparison));
  }

  /**
   * Compares a surface's first page in the background: legacy's page with new's, re-read after the
   * frontier passed the legacy read and, on a GSI, once more after the index-propagation margin
   * (`classifySurfaceDifference`). Pages either store returned incomplete are not compared.
   */
  comparePage(...comparison: PageComparison): void {
    this.track(this.runPage(...comparison));
  }

  /** Keeps a running comparison until it settles (`drain` waits for it); its failure is dropped. */
  private track(run: Promise<void>): void {
    const tracked = run.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Waits for every pending shadow comparison (tests, local server shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async run(...[legacyKey, newKey, legacyReadAt, legacy, newP]: ItemComparison): Promise<void> {
    const fresh = await newP;
    if (!legacy.ok || fresh.kind === 'failed') return;
    const first =
      fresh.kind === 'unmappable'
        ? ShadowClass.UNMAPPABLE
        : compareItems(legacy.item, fresh.kind === 'present' ? fresh.item : undefined);
    let recheck: Recheck | undefined;
    if (first !== ShadowClass.MATCH && first !== ShadowClass.UNMAPPABLE)
      recheck = await this.recheck(legacyKey, newKey, legacyReadAt, legacy.item);
    const result = classifyDifference(first, recheck);
    this.telemetry.comparison({
      migrationId: this.target.migration.id,
      class: result.class,
      first: result.first,
      key: itemToDynamoJson(legacyKey),
      legacyReadAt,
      frontier: this.cache.peekFrontier(),
      ...(fresh.kind === 'unmappable' ? { detail: fresh.detail } : {}),
    });
    // A key pinned to legacy by the time the comparison settles is known not to be in new (an
    // operator's decision, core/read/pins.ts): its difference says nothing new about the migration.
    if (!isKeyPinned(this.cache.peekPins(), legacyKey)) this.countForGuardrails(result.class);
  }

  /**
   * Adds a comparison to the control table's counters, the SHADOW guardrail's facts, only once the
   * backfill is complete: before, an item not copied yet compares "missing" by construction (its
   * legacy write may predate the stream, so no frontier covers it), which says nothing about the
   * migration the guardrail judges. Telemetry and metrics still see every comparison.
   */
  private countForGuardrails(shadowClass: string, surface?: string): void {
    if (this.cache.peekBackfillComplete()) this.target.counters?.record(shadowClass, this.now(), surface);
  }

  private async runPage(
    ...[surface, partition, legacyReadAt, legacy, freshP, readBoth]: PageComparison
  ): Promise<void> {
    const fresh = await freshP;
    if (fresh === undefined) return;
    const first =
      fresh === 'unmappable' ? ShadowClass.UNMAPPABLE : comparePages(legacy, fresh, surface.orderPreserved);
    if (first === undefined) return;
    let recheck: Recheck | undefined;
    let indexRecheck: Recheck | undefined;
    if (first !== ShadowClass.MATCH && first !== ShadowClass.UNMAPPABLE) {
      recheck = await this.recheckPage(surface, legacyReadAt, legacy, readBoth);
      const eventual = surface.fresh.eventual || surface.legacy.eventual;
      if (
        eventual &&
        recheck.kind === 'done' &&
        !recheck.legacyChanged &&
        recheck.second !== ShadowClass.MATCH
      ) {
        await sleep(this.target.migration.read.indexPropagationMarginMs);
        indexRecheck = await this.recheckPage(surface, legacyReadAt, legacy, readBoth);
      }
    }
    const result = classifySurfaceDifference(first, recheck, indexRecheck);
    this.telemetry.comparison({
      migrationId: this.target.migration.id,
      surface: surface.name,
      class: result.class,
      first: result.first,
      key: { [surface.legacy.key.partitionKey.name]: toDynamoJson(partition) },
      legacyReadAt,
      frontier: this.cache.peekFrontier(),
    });
    this.countForGuardrails(result.class, surface.name);
  }

  /** Once F − skew passed the legacy read: both pages read again and compared. */
  private async recheckPage(
    surface: QuerySurface,
    legacyReadAt: number,
    legacy: PageItems,
    readBoth: () => Promise<[PageItems, PageItems] | undefined>,
  ): Promise<Recheck> {
    if (!(await this.frontierPassed(legacyReadAt))) return { kind: 'frontier-not-reached' };
    const again = await readBoth();
    if (!again) return { kind: 'frontier-not-reached' };
    const [l, n] = again;
    const second = comparePages(l, n, surface.orderPreserved);
    if (second === undefined) return { kind: 'frontier-not-reached' };
    return {
      kind: 'done',
      legacyChanged: comparePages(legacy, l, surface.orderPreserved) !== ShadowClass.MATCH,
      second,
    };
  }

  /** Waits (within the re-check's patience) until F − skew has passed `legacyReadAt`. */
  private async frontierPassed(legacyReadAt: number): Promise<boolean> {
    const { clockSkewMs } = this.target.migration.read;
    const deadline = this.now() + this.options.recheckMaxWaitMs;
    for (;;) {
      const snap = await this.cache.refresh();
      if (snap.frontier - clockSkewMs > legacyReadAt) return true;
      if (this.now() >= deadline) return false;
      await sleep(this.options.recheckPollMs);
    }
  }

  /** Waits for F − skew to pass the legacy read, then reads both again (see core/read/shadow.ts). */
  private async recheck(
    legacyKey: Item,
    newKey: Item,
    legacyReadAt: number,
    legacyItem: Item | undefined,
  ): Promise<Recheck> {
    if (!(await this.frontierPassed(legacyReadAt))) return { kind: 'frontier-not-reached' };
    const admission = this.stores.breaker.admit();
    if (admission === 'open') return { kind: 'frontier-not-reached' };
    const legacy = await this.stores.readLegacy(legacyKey);
    const fresh = await this.stores.readNew(newKey, admission);
    if (!legacy.ok || fresh.kind === 'failed' || fresh.kind === 'unmappable')
      return { kind: 'frontier-not-reached' };
    return {
      kind: 'done',
      legacyChanged: compareItems(legacyItem, legacy.item) !== 'match',
      second: compareItems(legacy.item, fresh.kind === 'present' ? fresh.item : undefined),
    };
  }
}
