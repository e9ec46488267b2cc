import fc from 'fast-check';
import {
  DiffClass,
  classifyPair,
  planRepair,
  VerifySide,
  VerifyStage,
  advanceVerifyCheckpoint,
  initialVerifyCheckpoint,
  nextStage,
  sideTotals,
  ABSENT_TOKEN,
  NO_SEQ_TOKEN,
  SuspectStatus,
  type Suspect,
  agreesNow,
  decideRecheck,
  frontierCovers,
  lagReason,
  lagTimeout,
  lagWaitExpired,
  legacyDigest,
  recheckRound,
  sequenceToken,
  waitTarget,
} from '../../../core/verify';
import { BACKFILL_SEQ, metadataNames, type Migration, type Item } from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';

const names = metadataNames('_dr_');
const seq = (n: number) => String(n).padStart(40, '0');

/** A pending content-differs suspect, first seen with token 1 at 1_000, not waiting yet. */
const pendingSuspect: Suspect = {
  runId: 'r',
  legacyKey: {},
  newKey: {},
  firstClass: DiffClass.CONTENT_DIFFERS,
  class: DiffClass.CONTENT_DIFFERS,
  seenToken: seq(1),
  seenAt: 1_000,
  status: SuspectStatus.PENDING,
  rounds: 0,
  expiresAt: 0,
};

describe('Function: decideRecheck', () => {
  it.each<[string, DiffClass, string, string, number, SuspectStatus]>([
    ['resolves a match', DiffClass.MATCH, seq(1), seq(2), 0, SuspectStatus.RESOLVED],
    [
      'confirms a mismatch when no CDC write touched the key',
      DiffClass.CONTENT_DIFFERS,
      seq(1),
      seq(1),
      0,
      SuspectStatus.CONFIRMED,
    ],
    [
      'confirms a missing item that stayed absent',
      DiffClass.MISSING_IN_NEW,
      ABSENT_TOKEN,
      ABSENT_TOKEN,
      0,
      SuspectStatus.CONFIRMED,
    ],
    [
      'retries when CDC wrote the key meanwhile',
      DiffClass.CONTENT_DIFFERS,
      seq(1),
      seq(5),
      0,
      SuspectStatus.PENDING,
    ],
    [
      'gives up as unconfirmed-lag after the last round',
      DiffClass.CONTENT_DIFFERS,
      seq(1),
      seq(5),
      2,
      SuspectStatus.UNCONFIRMED_LAG,
    ],
    [
      'reports an item mapItem now refuses as unmappable',
      DiffClass.UNMAPPABLE,
      seq(1),
      seq(1),
      0,
      SuspectStatus.UNMAPPABLE,
    ],
  ])('%s', (_n, cls, seenToken, nowToken, rounds, status) => {
    // Act
    const d = decideRecheck({ cls, seenToken, nowToken, rounds, maxRounds: 3 });

    // Assess
    expect(d.status).toBe(status);
    expect(d.seenToken).toBe(nowToken);
    expect(d.rounds).toBe(rounds + 1);
  });

  it.each<[string, string, string, string | undefined, SuspectStatus]>([
    ['CDC wrote a newer sequence', seq(1), seq(5), 'cdc', SuspectStatus.REWRITTEN_BY_CDC],
    [
      'CDC wrote a key the first pass saw absent',
      ABSENT_TOKEN,
      seq(5),
      'cdc',
      SuspectStatus.REWRITTEN_BY_CDC,
    ],
    ['CDC wrote over an item without metadata', NO_SEQ_TOKEN, seq(5), 'cdc', SuspectStatus.REWRITTEN_BY_CDC],
    ['a repair made the last change', seq(1), seq(5), 'repair', SuspectStatus.UNCONFIRMED_LAG],
    ['the item has no source', seq(1), seq(5), undefined, SuspectStatus.UNCONFIRMED_LAG],
    ['the item went absent', seq(1), ABSENT_TOKEN, undefined, SuspectStatus.UNCONFIRMED_LAG],
    ['the sequence went back', seq(5), seq(1), 'cdc', SuspectStatus.UNCONFIRMED_LAG],
    ['a backfill sequence', ABSENT_TOKEN, BACKFILL_SEQ, 'cdc', SuspectStatus.UNCONFIRMED_LAG],
  ])('at the last round of a changing key: %s', (_n, seenToken, nowToken, nowSource, status) => {
    // Act
    const at = (rounds: number) =>
      decideRecheck({
        cls: DiffClass.CONTENT_DIFFERS,
        seenToken,
        nowToken,
        ...(nowSource ? { nowSource } : {}),
        rounds,
        maxRounds: 3,
      });
    const d = at(2);
    const early = at(0);

    // Assess: only the last round decides; before it the key goes another round
    expect(d.status).toBe(status);
    expect(early.status).toBe(SuspectStatus.PENDING);
  });

  it('never confirms when the token changed (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(DiffClass)),
        fc.nat(1000),
        fc.nat(1000),
        fc.nat(5),
        (cls, a, b, rounds) => {
          fc.pre(a !== b);
          const d = decideRecheck({ cls, seenToken: seq(a), nowToken: seq(b), rounds, maxRounds: 6 });
          expect(d.status).not.toBe(SuspectStatus.CONFIRMED);
        },
      ),
    );
  });
});

describe('Function: agreesNow (step 2b, no frontier wait)', () => {
  const m = usersMigration;
  const legacyAt = (v: number): Item => ({ userId: { S: 'u-1' }, fullName: { S: `v${v}` } });
  const newAt = (v: number, token: number): Item => ({
    ...m.mapItem(legacyAt(v)),
    _dr_seq: { S: seq(token) },
    _dr_src: { S: 'cdc' },
  });

  it('resolves only a key whose new item holds the mapped image of the legacy read, whatever CDC applied (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(20),
        fc.nat(20),
        fc.boolean(),
        fc.option(fc.constantFrom('deleted', 'absent'), { nil: undefined }),
        (legacyVersion, appliedVersion, drifted, gone) => {
          // Prepare: the legacy read saw one version, CDC had applied another (or the key is gone).
          const legacy = gone ? undefined : legacyAt(legacyVersion);
          let fresh: Item | undefined = newAt(appliedVersion, appliedVersion + 1);
          if (drifted && fresh) fresh = { ...fresh, displayName: { S: 'junk' } };
          if (gone === 'absent') fresh = undefined;

          // Act
          const agrees = agreesNow(m, names, { legacy, fresh });

          // Assess: equal versions agree; drift (content no legacy version has) never does
          if (drifted && fresh) expect(agrees).toBe(false);
          else if (legacy && !drifted) expect(agrees).toBe(legacyVersion === appliedVersion);
        },
      ),
    );
  });
});

describe('Function: recheckRound', () => {
  const base: Suspect = { ...pendingSuspect, seenAt: 0, waitingSince: 100 };
  const legacy: Item = { userId: { S: 'u-1' }, fullName: { S: 'new' } };
  const fresh = (token: number): Item => ({
    ...usersMigration.mapItem({ userId: { S: 'u-1' }, fullName: { S: 'old' } }),
    _dr_seq: { S: seq(token) },
    _dr_src: { S: 'cdc' },
  });

  it('starts the next round without the wait already spent, so each round has the whole bound', () => {
    // Act: CDC wrote the key again (token 2), still differing: another round
    const next = recheckRound(usersMigration, names, base, { legacy, fresh: fresh(2) }, 3, 5_000);

    // Assess
    expect(next.status).toBe(SuspectStatus.PENDING);
    expect(next.waitingSince).toBeUndefined();
    const target = { readAt: 20_000, legacy: legacyDigest(legacy) };
    const timeout = lagTimeout([{ suspect: next, target }], 20_000, 20_500, {
      frontier: 1,
      readAt: 20_000,
      clockSkewMs: 0,
      maxLagWaitMs: 1_000,
    });
    expect(timeout).toEqual({
      updates: [{ ...next, waitingSince: 20_000, waitReadAt: 20_000, waitLegacy: target.legacy }],
      left: 1,
    });
  });

  it('starts the next round without the read the last one waited on (step 3b holds within a round)', () => {
    // Prepare: the round waited on a read at 4_000 of this legacy content
    const waited = { ...base, waitReadAt: 4_000, waitLegacy: legacyDigest(legacy) };

    // Act: CDC wrote the key again (token 2), still differing: another round, whose new read is at 5_000
    const next = recheckRound(usersMigration, names, waited, { legacy, fresh: fresh(2) }, 3, 5_000);

    // Assess: the next invocation waits on its own read, not on 4_000 (before the round's new read)
    expect(next).not.toHaveProperty('waitReadAt');
    expect(next).not.toHaveProperty('waitLegacy');
    expect(waitTarget(next, legacy, 6_000).readAt).toBe(6_000);
  });

  it('leaves a suspect pending when the wait overshot its bound after reads made within it: the next round reads first', () => {
    // Prepare: waiting since 20_000 with a 1_000 bound; this round read the stores at 20_900
    const waiting = { ...base, waitingSince: 20_000 };
    const facts = { frontier: 1, clockSkewMs: 0, maxLagWaitMs: 1_000 };

    const target = { readAt: 20_900, legacy: legacyDigest(legacy) };
    const stored = { ...waiting, waitReadAt: target.readAt, waitLegacy: target.legacy };

    // Act: the wait ended at 21_040 (a late poll), past the bound
    const late = lagTimeout([{ suspect: waiting, target }], 20_000, 21_040, { ...facts, readAt: 20_900 });
    // ... and in the next invocation, reads made after the bound still disagree
    const next = lagTimeout([{ suspect: stored, target }], 20_000, 21_300, { ...facts, readAt: 21_200 });

    // Assess: the late wait only remembers the read it waited on
    expect(late).toEqual({ updates: [stored], left: 1 });
    expect(next.left).toBe(0);
    expect(next.updates).toEqual([
      expect.objectContaining({ status: SuspectStatus.UNCONFIRMED_LAG, settledAt: 21_300 }),
    ]);
  });

  it('says how far F stayed short of the read the suspect waited on, not of the latest read', () => {
    // Prepare: waited on a read at 10_000; this invocation read again at 14_000, after the bound
    const s = { ...base, waitingSince: 10_000, waitReadAt: 10_000, waitLegacy: legacyDigest(legacy) };
    const target = waitTarget(s, legacy, 14_000);

    // Act: F stopped at 9_000
    const { updates } = lagTimeout([{ suspect: s, target }], 14_000, 14_100, {
      frontier: 9_000,
      readAt: 14_000,
      clockSkewMs: 0,
      maxLagWaitMs: 3_000,
    });

    // Assess
    expect(updates).toEqual([expect.objectContaining({ status: SuspectStatus.UNCONFIRMED_LAG })]);
    expect(updates[0]?.reason).toMatch(/stayed 1000 ms short of the re-check's legacy read/);
  });

  it('keeps the suspect settled with its wait start when it confirms', () => {
    const confirmed = recheckRound(usersMigration, names, base, { legacy, fresh: fresh(1) }, 3, 5_000);
    expect(confirmed).toMatchObject({ status: SuspectStatus.CONFIRMED, waitingSince: 100, settledAt: 5_000 });
  });
});

describe('Function: waitTarget (step 3b)', () => {
  const suspect = pendingSuspect;
  const legacy = (name: string): Item => ({ userId: { S: 'u-1' }, fullName: { S: name } });
  const digest = legacyDigest(legacy('A'));

  it.each<[string, Partial<Suspect>, Item | undefined, number]>([
    ['waits on the read just made when the suspect has not waited', {}, legacy('A'), 9_000],
    [
      'waits on the earlier read when legacy still holds its content',
      { waitReadAt: 3_000, waitLegacy: digest },
      legacy('A'),
      3_000,
    ],
    [
      'waits on the read just made when legacy changed since',
      { waitReadAt: 3_000, waitLegacy: digest },
      legacy('B'),
      9_000,
    ],
    [
      'waits on the read just made when the key is gone from legacy',
      { waitReadAt: 3_000, waitLegacy: digest },
      undefined,
      9_000,
    ],
    [
      "never waits on a read made before the round's new read",
      { waitReadAt: 1_000, waitLegacy: digest },
      legacy('A'),
      9_000,
    ],
  ])('%s', (_, stored, read, readAt) => {
    expect(waitTarget({ ...suspect, ...stored }, read, 9_000)).toEqual({
      readAt,
      legacy: legacyDigest(read),
    });
  });

  it('tells contents apart exactly, attribute order aside', () => {
    expect(legacyDigest(undefined)).toBe(ABSENT_TOKEN);
    expect(legacyDigest({ a: { N: '1' }, b: { S: 'x' } })).toBe(
      legacyDigest({ b: { S: 'x' }, a: { N: '1' } }),
    );
    expect(legacyDigest({ a: { N: '1' } })).not.toBe(legacyDigest({ a: { S: '1' } }));
  });

  it('never confirms a key without drift, however legacy changed between the reads (property)', () => {
    // A model of one round: legacy versions committed at increasing times (contents drawn from three
    // values, so a change and a change back happens); CDC applies them in order, behind. The first
    // pass read new at n0; the re-check read legacy at t1' (stored) and again at t1. F is any value
    // that every write committed before it is applied by the time new is read again.
    const m = usersMigration;
    const image = (content: string, version: number): Item => ({
      ...m.mapItem(legacy(content)),
      _dr_seq: { S: seq(version + 1) },
      _dr_src: { S: 'cdc' },
    });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ gap: fc.integer({ min: 1, max: 10 }), content: fc.constantFrom('A', 'B', 'C') }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        fc.nat(40),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        fc.nat(3),
        fc.nat(3),
        fc.nat(20),
        fc.boolean(),
        (writes, n0, d1, d2, lag0, lag1, fPick, drifted) => {
          // Prepare: commit times, and the version a read at time t reflects (-1: the seed version 'A')
          const commits: number[] = [];
          writes.forEach((w, i) => commits.push((commits[i - 1] ?? 0) + w.gap));
          const last = (t: number) => commits.filter((c) => c < t).length - 1;
          const contentOf = (v: number) => (v < 0 ? 'A' : (writes[v]?.content as string));
          const t1Earlier = n0 + d1;
          const t1 = t1Earlier + d2;
          // CDC: applied up to a0 when the first pass read new, up to a1 (>= a0) when the re-check does
          const a0 = Math.max(-1, last(n0) - lag0);
          const a1 = Math.max(a0, last(t1) + 1 - lag1);
          const next = commits[a1 + 1] ?? Infinity;
          const frontier = Math.min(next, t1 + 20) - fPick;
          fc.pre(a1 < writes.length && frontier > 0);

          const s: Suspect = {
            ...suspect,
            seenAt: n0,
            seenToken: seq(a0 + 1),
            waitReadAt: t1Earlier,
            waitLegacy: legacyDigest(legacy(contentOf(last(t1Earlier)))),
          };
          const read = legacy(contentOf(last(t1)));
          const target = waitTarget(s, read, t1);
          fc.pre(frontierCovers(frontier, 0, target.readAt));
          let fresh = image(contentOf(a1), a1);
          if (drifted) fresh = { ...fresh, displayName: { S: 'junk' } };

          // Act
          const round = recheckRound(m, names, s, { legacy: read, fresh }, 3, t1 + 200);

          // Assess: confirmed only when drifted
          if (!drifted) expect(round.status).not.toBe(SuspectStatus.CONFIRMED);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('Function: lagReason', () => {
  it('says how far F was short of the legacy read, or that none was published, and what to do', () => {
    const facts = { readAt: 10_000, clockSkewMs: 1_000, maxLagWaitMs: 30_000 };
    expect(lagReason({ ...facts, frontier: 4_000 }, 1)).toMatch(
      /^the frontier minus the 1000 ms clock-skew margin stayed 7000 ms short of the re-check's legacy read within the 30000 ms wait bound \(round 2\), and the stores still differed: .*run the verification again\.$/,
    );
    expect(lagReason({ ...facts, frontier: undefined }, 0)).toMatch(
      /^no frontier was published within the 30000 ms wait bound \(round 1\)/,
    );
  });
});

describe('Function: frontierCovers', () => {
  it('needs F minus the skew margin to reach the read time, and a published F', () => {
    // Act / Assess
    expect(frontierCovers(10_000, 1_000, 9_000)).toBe(true);
    expect(frontierCovers(10_000, 1_000, 9_001)).toBe(false);
    expect(frontierCovers(0, 0, 0)).toBe(false);
    expect(lagWaitExpired(undefined, 10, 1)).toBe(false);
    expect(lagWaitExpired(0, 10, 5)).toBe(true);
  });
});

describe('Function: sequenceToken', () => {
  it('names absent items, items without metadata and sequences apart', () => {
    // Act / Assess
    expect(sequenceToken(undefined, names)).toBe(ABSENT_TOKEN);
    expect(sequenceToken({ PK: { S: 'x' } }, names)).toBe(NO_SEQ_TOKEN);
    expect(sequenceToken({ PK: { S: 'x' }, _dr_seq: { S: seq(7) } }, names)).toBe(seq(7));
  });
});

describe('Function: planRepair', () => {
  const legacy: Item = { userId: { S: 'u1' }, fullName: { S: 'Ada' } };
  const mapped = usersMigration.mapItem(legacy);
  const user: Item = { userId: { S: 'u1' } };
  const key = usersMigration.mapKey(user);

  it('rewrites differing content keeping the sequence it found, under "#seq = :found"', () => {
    // Prepare
    const current: Item = { ...mapped, displayName: { S: 'junk' }, _dr_seq: { S: seq(9) } };

    // Act
    const plan = planRepair(usersMigration, names, { newKey: key, legacyKey: user, legacy, current }, 1234);

    // Assess
    expect(plan).toMatchObject({
      kind: 'put',
      cls: DiffClass.CONTENT_DIFFERS,
      found: seq(9),
      condition: { expression: '#seq = :found', values: { ':found': { S: seq(9) } } },
      item: { ...mapped, _dr_seq: { S: seq(9) }, _dr_src: { S: 'repair' }, _dr_ts: { N: '1234' } },
    });
    if (plan.kind !== 'none') expect(classifyPair(mapped, plan.item, names)).toBe(DiffClass.MATCH);
  });

  it('writes a missing item with the backfill sequence under attribute_not_exists', () => {
    // Act
    const plan = planRepair(
      usersMigration,
      names,
      { newKey: key, legacyKey: user, legacy, current: undefined },
      1,
    );

    // Assess
    expect(plan).toMatchObject({
      kind: 'put',
      cls: DiffClass.MISSING_IN_NEW,
      condition: { expression: 'attribute_not_exists(#seq)' },
      item: { _dr_seq: { S: BACKFILL_SEQ } },
      beforeHash: 'absent',
    });
  });

  it('tombstones an extra item instead of deleting it', () => {
    // Prepare
    const current: Item = { ...mapped, _dr_seq: { S: seq(4) } };

    // Act
    const plan = planRepair(
      usersMigration,
      names,
      { newKey: key, legacyKey: user, legacy: undefined, current },
      1,
    );

    // Assess
    expect(plan).toMatchObject({
      kind: 'tombstone',
      cls: DiffClass.EXTRA_IN_NEW,
      item: { ...key, _dr_del: { BOOL: true }, _dr_seq: { S: seq(4) }, _dr_src: { S: 'repair' } },
    });
  });

  it.each<[string, Migration, Item]>([
    [
      'unmapItem throws on it',
      {
        ...usersMigration,
        unmapItem: () => {
          throw new TypeError('cannot unmap');
        },
      },
      user,
    ],
    [
      'its origin maps to another key',
      { ...usersMigration, unmapItem: (i) => ({ ...usersMigration.unmapItem(i), userId: { S: 'u9' } }) },
      user,
    ],
    ['it comes from another legacy key than the one read', usersMigration, { userId: { S: 'u2' } }],
    ['the suspect has no legacy key', usersMigration, {}],
  ])('never tombstones a live item whose origin is not the legacy key read: %s', (_n, m, legacyKey) => {
    // Prepare: legacy absent at the key read; the new item is a valid copy of u1
    const current: Item = { ...mapped, _dr_seq: { S: seq(4) } };

    // Act
    const plan = planRepair(m, names, { newKey: key, legacyKey, legacy: undefined, current }, 1);

    // Assess
    expect(plan).toEqual({ kind: 'none', cls: DiffClass.ORIGIN_UNKNOWN, reason: expect.any(String) });
  });

  it('plans nothing when the stores already agree (a rerun repairs nothing)', () => {
    // Act
    const plan = planRepair(
      usersMigration,
      names,
      { newKey: key, legacyKey: user, legacy, current: { ...mapped, _dr_seq: { S: seq(2) } } },
      1,
    );

    // Assess
    expect(plan).toEqual({ kind: 'none', cls: DiffClass.MATCH });
  });
});

describe('Function: nextStage', () => {
  const done = (side: VerifySide, segment: number, o: { census?: string; sum?: string } = {}) =>
    advanceVerifyCheckpoint(
      initialVerifyCheckpoint('r', side, segment, 1, 0),
      {
        scanned: 1,
        counts: { match: 1 },
        tombstones: 0,
        checksum: { count: 1, sum: '0'.repeat(63) + (o.sum ?? '5') },
        keyCensus: { count: 1, sum: '0'.repeat(63) + (o.census ?? '7') },
        suspects: 0,
        suspectsDropped: 0,
        notBefore: 0,
      },
      1,
    );
  const input = (over: Partial<Parameters<typeof nextStage>[0]>): Parameters<typeof nextStage>[0] => ({
    totalSegments: 1,
    sums: [done(VerifySide.SUMS, 0)],
    fresh: [done(VerifySide.NEW, 0)],
    legacy: [],
    extras: [],
    pendingSuspects: 0,
    unrepaired: 0,
    repair: false,
    ...over,
  });
  const differ = { fresh: [done(VerifySide.NEW, 0, { sum: '6' })] };

  it.each<[string, Partial<Parameters<typeof nextStage>[0]>, VerifyStage, number[]]>([
    ['checksums legacy first', { totalSegments: 2, sums: [done(VerifySide.SUMS, 1)] }, VerifyStage.SUMS, [0]],
    ['then the new table', { fresh: [] }, VerifyStage.NEW, [0]],
    [
      'reports at once when the checksums are equal (no lookups)',
      { pendingSuspects: 0 },
      VerifyStage.REPORT,
      [],
    ],
    ['compares item by item when the checksums differ', differ, VerifyStage.LEGACY, [0]],
    [
      'looks for extras when the key censuses differ too',
      { ...differ, legacy: [done(VerifySide.LEGACY, 0, { census: '9' })] },
      VerifyStage.EXTRAS,
      [0],
    ],
    [
      'skips the extras pass when the censuses are equal, and re-checks suspects',
      { ...differ, legacy: [done(VerifySide.LEGACY, 0)], pendingSuspects: 2 },
      VerifyStage.RECHECK,
      [],
    ],
    [
      'repairs when asked',
      { ...differ, legacy: [done(VerifySide.LEGACY, 0)], unrepaired: 2, repair: true },
      VerifyStage.REPAIR,
      [],
    ],
    [
      'reports without repair when not asked',
      { ...differ, legacy: [done(VerifySide.LEGACY, 0)], unrepaired: 2, repair: false },
      VerifyStage.REPORT,
      [],
    ],
  ])('%s', (_n, over, stage, segments) => {
    // Act / Assess
    expect(nextStage(input(over))).toEqual({ stage, segments });
  });

  it('sums side totals and checksums over checkpoints', () => {
    // Act
    const t = sideTotals([done(VerifySide.LEGACY, 0), done(VerifySide.LEGACY, 1)]);

    // Assess
    expect(t).toMatchObject({
      scanned: 2,
      segmentsDone: 2,
      checksum: { count: 2, sum: '0'.repeat(62) + '0a' },
    });
    expect(() =>
      advanceVerifyCheckpoint(done(VerifySide.LEGACY, 0), { ...t, notBefore: 0 } as never, 2),
    ).toThrow(RangeError);
  });
});
