import fc from 'fast-check';
import { poisonKeyHash } from '../../../core/backfill';
import {
  ChecksumAccumulator,
  EMPTY_CHECKSUM,
  checksumOf,
  checksumsEqual,
  combineChecksums,
  itemHash,
  DIFF_CLASSES,
  DiffClass,
  classifyLegacy,
  classifyPair,
  expectedNewItem,
  inverseProblem,
  originOf,
  SuspectStatus,
  type Suspect,
  summarize,
  initialVerifyCheckpoint,
  sideTotals,
} from '../../../core/verify';
import {
  metadataNames,
  type Migration,
  type Item,
  canonicalItem,
  itemToDynamoJson,
} from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';
import { item as anyItem } from '../../helpers/arbitraries';

const names = metadataNames('_dr_');
const meta = (seq = '1'.padStart(40, '0')): Item => ({ _dr_seq: { S: seq }, _dr_src: { S: 'cdc' } });
const tomb = (key: Item): Item => ({ ...key, ...meta(), _dr_del: { BOOL: true } });
/** Items without the metadata prefix (what mapItem produces). */
const userItem = anyItem.map((i) =>
  Object.fromEntries(Object.entries(i).filter(([n]) => !n.startsWith('_dr_'))),
);

describe('Constant: DIFF_CLASSES', () => {
  it('lists every class in report order', () => {
    expect(DIFF_CLASSES).toEqual([
      'match',
      'missing-in-new',
      'content-differs',
      'tombstoned-in-new',
      'extra-in-new',
      'unmappable',
      'not-invertible',
      'origin-unknown',
    ]);
  });
});

describe('Function: classifyPair', () => {
  const expected: Item = { PK: { S: 'USER#1' }, SK: { S: 'PROFILE' }, n: { N: '1' } };
  it.each<[string, Item | undefined, Item | undefined, DiffClass]>([
    ['match with metadata ignored', expected, { ...expected, ...meta() }, DiffClass.MATCH],
    ['match when numbers are equal by value', expected, { ...expected, n: { N: '1.0' } }, DiffClass.MATCH],
    ['content differs on type', expected, { ...expected, n: { S: '1' } }, DiffClass.CONTENT_DIFFERS],
    [
      'content differs on an extra attribute',
      expected,
      { ...expected, x: { NULL: true } },
      DiffClass.CONTENT_DIFFERS,
    ],
    ['missing in new', expected, undefined, DiffClass.MISSING_IN_NEW],
    [
      'tombstoned in new',
      expected,
      tomb({ PK: expected.PK!, SK: expected.SK! }),
      DiffClass.TOMBSTONED_IN_NEW,
    ],
    ['extra in new', undefined, { ...expected, ...meta() }, DiffClass.EXTRA_IN_NEW],
    ['both absent', undefined, undefined, DiffClass.MATCH],
    [
      'legacy absent, tombstone in new',
      undefined,
      tomb({ PK: expected.PK!, SK: expected.SK! }),
      DiffClass.MATCH,
    ],
  ])('classifies %s', (_name, exp, actual, cls) => {
    // Act
    const out = classifyPair(exp, actual, names);

    // Assess
    expect(out).toBe(cls);
  });

  it('is a match exactly when the new item minus metadata is canonically equal (property)', () => {
    fc.assert(
      fc.property(userItem, userItem, fc.boolean(), (a, b, same) => {
        // Prepare
        const actual = { ...(same ? a : b), ...meta() };

        // Act
        const cls = classifyPair(a, actual, names);

        // Assess
        const equal = canonicalItem(a) === canonicalItem(same ? a : b);
        expect(cls).toBe(equal ? DiffClass.MATCH : DiffClass.CONTENT_DIFFERS);
      }),
    );
  });
});

describe('Function: classifyLegacy', () => {
  it('compares mapItem(legacy) with the new item', () => {
    // Prepare
    const legacy: Item = { userId: { S: 'u1' }, fullName: { S: 'Ada' } };
    const mapped = usersMigration.mapItem(legacy);

    // Act
    const same = classifyLegacy(usersMigration, legacy, { ...mapped, ...meta() }, names);
    const renamedNotMapped = classifyLegacy(usersMigration, legacy, { ...legacy, ...meta() }, names);

    // Assess
    expect(same).toBe(DiffClass.MATCH);
    expect(renamedNotMapped).toBe(DiffClass.CONTENT_DIFFERS);
  });

  it('reports a legacy item mapItem refuses as unmappable', () => {
    // Prepare
    const legacy: Item = { userId: { S: 'u1' }, profile: { S: 'reserved' } };

    // Act
    const cls = classifyLegacy(usersMigration, legacy, undefined, names);

    // Assess
    expect(cls).toBe(DiffClass.UNMAPPABLE);
    expect(expectedNewItem(usersMigration, legacy, names)).toEqual({
      unmappable: expect.stringContaining('profile'),
    });
  });
});

describe('Function: originOf', () => {
  const legacy: Item = { userId: { S: 'u1' }, fullName: { S: 'Ada' } };
  const stored: Item = { ...usersMigration.mapItem(legacy), ...meta() };
  const withUnmap = (unmapItem: Migration['unmapItem']): Migration => ({ ...usersMigration, unmapItem });

  it('computes the legacy key of a new item, metadata and all', () => {
    // Act / Assess
    expect(originOf(usersMigration, stored, names)).toEqual({ key: { userId: { S: 'u1' } } });
  });

  it.each<[string, Migration, RegExp]>([
    [
      'unmapItem throws',
      withUnmap(() => {
        throw new RangeError('no inverse');
      }),
      /^unmapItem threw RangeError: no inverse$/,
    ],
    [
      'the key it gives maps to another new key',
      withUnmap((i) => ({ ...usersMigration.unmapItem(i), userId: { S: 'u2' } })),
      /mapKey maps to .*USER#u2.*, not to this item's key .*USER#u1/,
    ],
    [
      'the key it gives lacks a key attribute',
      withUnmap((i) => {
        const { userId: _u, ...rest } = usersMigration.unmapItem(i);
        return rest;
      }),
      /^mapKey threw TypeError: expected string attribute "userId"/,
    ],
  ])('gives no origin, with the reason, when %s', (_n, m, reason) => {
    // Act
    const origin = originOf(m, stored, names);

    // Assess
    expect(origin).toEqual({ unknown: expect.stringMatching(reason) });
  });
});

describe('Function: inverseProblem', () => {
  it('accepts an item the mapping gives back (equal as DynamoDB compares)', () => {
    // Prepare: the inverse writes the number in another form and the set in another order
    const legacy: Item = { userId: { S: 'u1' }, n: { N: '1.50' }, s: { SS: ['a', 'b'] } };
    const m = withInverse((i) => ({
      ...usersMigration.unmapItem(i),
      n: { N: '15E-1' },
      s: { SS: ['b', 'a'] },
    }));

    // Act / Assess
    expect(inverseProblem(m, legacy, m.mapItem(legacy))).toBeUndefined();
  });

  it('names the attributes that come back different, missing or extra', () => {
    // Prepare
    const legacy: Item = { userId: { S: 'u1' }, a: { S: 'x' }, b: { N: '1' } };
    const m = withInverse((i) => {
      const { b: _b, ...rest } = usersMigration.unmapItem(i);
      return { ...rest, a: { S: 'y' }, c: { NULL: true } };
    });

    // Act / Assess
    expect(inverseProblem(m, legacy, m.mapItem(legacy))).toBe(
      'unmapItem(mapItem(item)) differs from the item in "a", "b", "c"',
    );
  });

  it('reports an inverse that throws', () => {
    // Prepare
    const m = withInverse(() => {
      throw new TypeError('boom');
    });

    // Act / Assess
    expect(inverseProblem(m, { userId: { S: 'u' } }, {})).toBe(
      'unmapItem(mapItem(item)) threw TypeError: boom',
    );
  });

  function withInverse(unmapItem: Migration['unmapItem']): Migration {
    return { ...usersMigration, unmapItem };
  }
});

describe('Function: summarize', () => {
  const suspect = (over: Partial<Suspect>): Suspect => ({
    runId: 'r',
    legacyKey: {},
    newKey: {},
    firstClass: DiffClass.CONTENT_DIFFERS,
    class: DiffClass.CONTENT_DIFFERS,
    seenToken: 'absent',
    seenAt: 0,
    status: SuspectStatus.CONFIRMED,
    rounds: 1,
    expiresAt: 0,
    ...over,
  });
  const none = sideTotals([]);
  const sums = {
    ...sideTotals([initialVerifyCheckpoint('r', 'sums', 0, 1, 0)]),
    scanned: 3,
    segmentsDone: 1,
    counts: { ...none.counts, [DiffClass.NOT_INVERTIBLE]: 1 },
  };

  it('counts mapping defects by class, lists them by legacy key or else new key, and is not clean', () => {
    // Prepare
    const legacyKey = itemToDynamoJson({ userId: { S: 'u1' } });
    const newKey = itemToDynamoJson({ PK: { S: 'USER#x' }, SK: { S: 'PROFILE' } });
    const suspects = [
      suspect({
        legacyKey,
        firstClass: DiffClass.NOT_INVERTIBLE,
        class: DiffClass.NOT_INVERTIBLE,
        status: SuspectStatus.MAPPING_DEFECT,
      }),
      suspect({
        newKey,
        firstClass: DiffClass.ORIGIN_UNKNOWN,
        class: DiffClass.ORIGIN_UNKNOWN,
        status: SuspectStatus.MAPPING_DEFECT,
      }),
    ];

    // Act
    const out = summarize(sums, none, none, none, suspects);

    // Assess
    expect(out.counts).toMatchObject({
      [DiffClass.MATCH]: 3,
      [DiffClass.NOT_INVERTIBLE]: 1,
      [DiffClass.ORIGIN_UNKNOWN]: 1,
    });
    expect(out.firstPass[DiffClass.NOT_INVERTIBLE]).toBe(1);
    expect(out.samples).toEqual({
      [DiffClass.NOT_INVERTIBLE]: [legacyKey],
      [DiffClass.ORIGIN_UNKNOWN]: [newKey],
    });
    expect(out.clean).toBe(false);
    expect(summarize(sums, none, none, none, []).clean).toBe(true);
  });

  it('classifies an unmappable item of a key pinned to legacy as pinned (listed with its reason, clean); an unpinned one is not clean', () => {
    // Prepare
    const pinnedKey = itemToDynamoJson({ userId: { S: 'poison-0' } });
    const otherKey = itemToDynamoJson({ userId: { S: 'poison-1' } });
    const unmappable = (legacyKey: typeof pinnedKey) =>
      suspect({
        legacyKey,
        firstClass: DiffClass.UNMAPPABLE,
        class: DiffClass.UNMAPPABLE,
        status: SuspectStatus.UNMAPPABLE,
        reason: 'mapItem wrote reserved attributes _dr_poison',
      });
    const pins = new Set([poisonKeyHash({ userId: { S: 'poison-0' } })]);

    // Act
    const pinnedOnly = summarize(sums, none, none, none, [unmappable(pinnedKey)], pins);
    const both = summarize(sums, none, none, none, [unmappable(pinnedKey), unmappable(otherKey)], pins);

    // Assess
    expect(pinnedOnly.counts[DiffClass.UNMAPPABLE]).toBe(0);
    expect(pinnedOnly.pinned).toEqual({
      count: 1,
      keys: [{ key: pinnedKey, reason: 'mapItem wrote reserved attributes _dr_poison' }],
    });
    expect(pinnedOnly.clean).toBe(true);
    expect(both.counts[DiffClass.UNMAPPABLE]).toBe(1);
    expect(both.samples[DiffClass.UNMAPPABLE]).toEqual([otherKey]);
    expect(both.clean).toBe(false);
    expect(summarize(sums, none, none, none, [unmappable(pinnedKey)]).clean).toBe(false);
  });

  it('counts keys CDC kept rewriting apart from unconfirmed lag, samples them, and stays clean', () => {
    // Prepare
    const hot = itemToDynamoJson({ userId: { S: 'hot' } });
    const rewritten = suspect({ legacyKey: hot, status: SuspectStatus.REWRITTEN_BY_CDC, rounds: 3 });
    const lagging = suspect({ status: SuspectStatus.UNCONFIRMED_LAG, rounds: 3 });

    // Act
    const out = summarize(sums, none, none, none, [rewritten]);
    const both = summarize(sums, none, none, none, [rewritten, lagging]);

    // Assess
    expect(out).toMatchObject({ rewrittenByCdc: 1, unconfirmedLag: 0, clean: true });
    expect(out.samples[SuspectStatus.REWRITTEN_BY_CDC]).toEqual([hot]);
    expect(both).toMatchObject({ rewrittenByCdc: 1, unconfirmedLag: 1, clean: false });
  });
});

describe('Function: checksumOf', () => {
  it('does not depend on the order of the items (property)', () => {
    fc.assert(
      fc.property(fc.array(anyItem, { maxLength: 12 }), fc.integer(), (items, seed) => {
        // Prepare
        const shuffled = [...items].sort(
          (x, y) => ((itemHash(x) + seed).localeCompare(itemHash(y) + seed) || 0) * (seed % 2 ? 1 : -1),
        );

        // Act / Assess
        expect(checksumOf(shuffled)).toEqual(checksumOf(items));
      }),
    );
  });

  it('combines per-segment checksums into the checksum of the union (property)', () => {
    fc.assert(
      fc.property(fc.array(anyItem, { maxLength: 10 }), fc.array(anyItem, { maxLength: 10 }), (a, b) => {
        // Act
        const combined = combineChecksums(checksumOf(a), checksumOf(b));

        // Assess
        expect(combined).toEqual(checksumOf([...a, ...b]));
      }),
    );
  });

  it('does not let duplicates cancel out', () => {
    // Prepare
    const x: Item = { id: { S: 'x' } };
    const y: Item = { id: { S: 'y' } };

    // Act
    const once = checksumOf([y]);
    const withPair = checksumOf([x, x, y]);

    // Assess: XOR would give equal sums here
    expect(withPair.sum).not.toBe(once.sum);
    expect(checksumsEqual(checksumOf([x, y]), checksumOf([y, x]))).toBe(true);
  });

  it('tells apart values that differ only in type, and equates numbers equal by value', () => {
    // Act / Assess
    expect(checksumOf([{ a: { N: '1' } }]).sum).not.toBe(checksumOf([{ a: { S: '1' } }]).sum);
    expect(checksumOf([{ a: { N: '1.50' } }])).toEqual(checksumOf([{ a: { N: '15E-1' } }]));
  });

  it('wraps around modulo 2^256 and starts from a stored value', () => {
    // Prepare
    const acc = new ChecksumAccumulator({ count: 1, sum: 'f'.repeat(64) });

    // Act
    acc.addHash('0'.repeat(63) + '2');

    // Assess
    expect(acc.value()).toEqual({ count: 2, sum: '0'.repeat(63) + '1' });
    expect(checksumOf([])).toEqual(EMPTY_CHECKSUM);
  });
});
