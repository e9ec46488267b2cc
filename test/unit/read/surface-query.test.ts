import { Phase } from '../../../core/control';
import { type Item } from '../../../core/model';
import {
  type RouteInput,
  RouteReason,
  ShadowClass,
  classifySurfaceDifference,
  comparePages,
  decideRoute,
  surfaceStartKeyBelongs,
} from '../../../core/read';

const u = (id: string, extra: Item = {}): Item => ({ userId: { S: id }, ...extra });
const page = (items: Item[], complete = true) => ({ items, complete });

describe('Query surfaces: page comparison and index-lag classification', () => {
  it('compares complete pages as sets, or as sequences when order is preserved', () => {
    const a = u('a');
    const b = u('b');
    expect(comparePages(page([a, b]), page([b, a]), false)).toBe(ShadowClass.MATCH);
    expect(comparePages(page([a, b]), page([b, a]), true)).toBe(ShadowClass.CONTENT);
    expect(comparePages(page([a, b]), page([a]), false)).toBe(ShadowClass.MISSING);
    expect(comparePages(page([a]), page([a, b]), false)).toBe(ShadowClass.EXTRA);
    expect(comparePages(page([a]), page([u('a', { x: { S: '1' } })]), false)).toBe(ShadowClass.CONTENT);
    // A page either store returned incomplete cannot be judged.
    expect(comparePages(page([a], false), page([a, b]), false)).toBeUndefined();
  });

  it('tells index lag from CDC lag and from a mismatch', () => {
    const done = (second: ShadowClass, legacyChanged = false) => ({
      kind: 'done' as const,
      legacyChanged,
      second,
    });
    // Equal once F passed the read: CDC lag.
    expect(classifySurfaceDifference(ShadowClass.MISSING, done(ShadowClass.MATCH)).class).toBe(
      ShadowClass.WITHIN_LAG,
    );
    // Still different after F, equal after the index margin: the GSI had not caught up.
    expect(
      classifySurfaceDifference(ShadowClass.MISSING, done(ShadowClass.MISSING), done(ShadowClass.MATCH)),
    ).toEqual({ class: ShadowClass.INDEX_LAG, first: ShadowClass.MISSING });
    // Still different after the margin: a real mismatch, never hidden as lag.
    expect(
      classifySurfaceDifference(ShadowClass.MISSING, done(ShadowClass.MISSING), done(ShadowClass.EXTRA))
        .class,
    ).toBe(ShadowClass.EXTRA);
    // Legacy changed meanwhile: nothing can be concluded.
    expect(
      classifySurfaceDifference(ShadowClass.MISSING, done(ShadowClass.MISSING), done(ShadowClass.MATCH, true))
        .class,
    ).toBe(ShadowClass.WITHIN_LAG);
    // No index re-check (a base-table surface): the mismatch stands.
    expect(classifySurfaceDifference(ShadowClass.CONTENT, done(ShadowClass.CONTENT)).class).toBe(
      ShadowClass.CONTENT,
    );
  });

  it('accepts a start key only with the index and table keys of the queried partition', () => {
    const idx = { partitionKey: { name: 'email', type: 'S' as const } };
    const table = { partitionKey: { name: 'userId', type: 'S' as const } };
    const e = { S: 'a@x' };
    expect(surfaceStartKeyBelongs({ email: e, userId: { S: 'u' } }, idx, table, e)).toBe(true);
    expect(surfaceStartKeyBelongs({ email: { S: 'b@x' }, userId: { S: 'u' } }, idx, table, e)).toBe(false);
    expect(surfaceStartKeyBelongs({ email: e }, idx, table, e)).toBe(false);
    expect(surfaceStartKeyBelongs({ email: e, userId: { S: 'u' }, x: { S: '1' } }, idx, table, e)).toBe(
      false,
    );
  });
});

describe('Routing of surface queries', () => {
  const now = 1_800_000_000_000;
  const input: RouteInput = {
    phase: Phase.NEW_PRIMARY,
    rolloutPercent: 100,
    bucket: 0,
    migrationDefault: 'bounded',
    now,
    frontier: now - 1000,
    clockSkewMs: 1000,
    controlCacheAgeMs: 0,
    stalenessBudgetMs: 5000,
    backfillComplete: true,
    newRead: 'unknown',
    breaker: 'closed',
    sample: 0,
    shadowSampleRate: 0.05,
    kind: 'query',
  };

  it('adds the index-propagation margin to the bound bounded mode proves', () => {
    expect(decideRoute(input).stalenessBoundMs).toBe(2000);
    expect(decideRoute({ ...input, indexMarginMs: 1000 }).stalenessBoundMs).toBe(3000);
    // The margin can push a read past the budget: legacy serves.
    expect(decideRoute({ ...input, indexMarginMs: 3001 }).reason).toBe(RouteReason.FRONTIER_TOO_OLD);
  });

  it('reads both stores in strong mode and samples shadow only for a comparable page', () => {
    expect(decideRoute({ ...input, requested: 'strong' }).reason).toBe(RouteReason.STRONG_QUERY_FROM_LEGACY);
    const strong = decideRoute({ ...input, requested: 'strong', pageComparable: true });
    expect(strong).toMatchObject({ readBoth: true, reason: RouteReason.STRONG_PENDING });
    expect(
      decideRoute({
        ...input,
        requested: 'strong',
        pageComparable: true,
        newRead: 'present',
        comparison: 'equal',
      }),
    ).toMatchObject({ route: 'new', reason: RouteReason.STRONG_EQUAL });
    const shadow = { ...input, phase: Phase.SHADOW, requested: 'shadow' as const };
    expect(decideRoute(shadow).shadow).toBe(false);
    expect(decideRoute({ ...shadow, pageComparable: true }).shadow).toBe(true);
  });
});
