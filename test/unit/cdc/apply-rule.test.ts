import fc from 'fast-check';
import {
  SkipReason,
  StaleChangeError,
  UnappliableChangeError,
  applyChange,
  classifySkip,
  findSeqRegressions,
  planWrite,
  tombstoneExpiry,
  ChangeKind,
  type StreamChange,
} from '../../../core/cdc';
import {
  type Migration,
  BACKFILL_SEQ,
  isTombstone,
  metadataNames,
  padSequence,
  stripMetadata,
  type Item,
  canonicalItem,
  emptyItem,
  itemFromDynamoJson,
} from '../../../core/model';
import { usersMigration as m } from '../../../examples/users/migration';
import { item as anyItem } from '../../helpers/arbitraries';
import { MemoryNewTable } from '../../helpers/memory-new-table';
import { change } from '../../helpers/stream-records';

const names = metadataNames();
const key: Item = { userId: { S: 'u-1' } };
const newKey: Item = { PK: { S: 'USER#u-1' }, SK: { S: 'PROFILE' } };
const T0 = 1_764_547_200_000;

describe('Function: planWrite', () => {
  it('writes mapItem(NewImage) plus cdc metadata under the apply condition for INSERT and MODIFY', () => {
    // Prepare
    const c = change(ChangeKind.MODIFY, key, '4200', T0 + 1, { ...key, fullName: { S: 'Ada' } });

    // Act
    const plan = planWrite(c, m);

    // Assess
    expect(plan.kind).toBe('upsert');
    expect(plan.key).toEqual(newKey);
    expect(plan.item).toEqual({
      ...newKey,
      displayName: { S: 'Ada' },
      _dr_seq: { S: padSequence('4200') },
      _dr_src: { S: 'cdc' },
      _dr_ts: { N: String(T0 + 1) },
    });
    expect(plan.condition).toEqual({
      expression: 'attribute_not_exists(#seq) OR #seq < :seq',
      names: { '#seq': '_dr_seq' },
      values: { ':seq': { S: '0'.repeat(36) + '4200' } },
    });
  });

  it('refuses a mapping result that lost an attribute named "__proto__" (assigned into a plain object), naming it', () => {
    // Prepare: a mapping that copies attributes with Object.assign, which assigns "__proto__" (sets the
    // prototype) instead of copying it as an attribute.
    const lossy: Migration = { ...m, mapItem: (legacy) => Object.assign({}, m.mapItem(legacy)) };
    const image = itemFromDynamoJson(JSON.parse('{"userId":{"S":"u-1"},"__proto__":{"S":"p"}}'));

    // Act / Assess
    expect(() => planWrite(change(ChangeKind.MODIFY, key, '9', T0, image), lossy)).toThrow(
      UnappliableChangeError,
    );
    expect(() => planWrite(change(ChangeKind.MODIFY, key, '9', T0, image), lossy)).toThrow(
      /mapItem failed: LostAttributeError: mapItem result: its prototype is not Object\.prototype/,
    );
  });

  it('carries an attribute named "__proto__" through the example mapping as an attribute', () => {
    const image = itemFromDynamoJson(JSON.parse('{"userId":{"S":"u-1"},"__proto__":{"S":"p"}}'));

    const plan = planWrite(change(ChangeKind.MODIFY, key, '9', T0, image), m);

    expect(Object.hasOwn(plan.item, '__proto__')).toBe(true);
    expect(plan.item['__proto__']).toEqual({ S: 'p' });
  });

  it.each([
    ['without TTL while backfill is not complete', undefined, undefined],
    ['with _dr_ttl when given one', 1_800_000_000, { N: '1800000000' }],
  ])('writes a tombstone for REMOVE %s', (_label, ttl, expected) => {
    const plan = planWrite(change(ChangeKind.REMOVE, key, '7', T0), m, { tombstoneTtl: ttl });
    expect(plan.kind).toBe('tombstone');
    expect(plan.item._dr_del).toEqual({ BOOL: true });
    expect(plan.item._dr_ttl).toEqual(expected);
    expect(Object.keys(plan.item).sort()).toEqual(
      ['PK', 'SK', '_dr_del', '_dr_seq', '_dr_src', '_dr_ts', ...(ttl ? ['_dr_ttl'] : [])].sort(),
    );
  });

  it.each<[string, StreamChange, RegExp]>([
    [
      'mapItem throws',
      change(ChangeKind.INSERT, key, '1', T0, { ...key, profile: { S: 'x' } }),
      /mapItem failed/,
    ],
    ['the image is missing', change(ChangeKind.MODIFY, key, '1', T0), /no NewImage/],
    ['the sequence number is not digits', change(ChangeKind.REMOVE, key, '12a', T0), /not a decimal integer/],
    ['the sequence number is 0 (reserved for backfill)', change(ChangeKind.REMOVE, key, '0', T0), /reserved/],
    [
      'mapItem returns metadata attributes',
      change(ChangeKind.INSERT, key, '1', T0, { ...key, _dr_seq: { S: 'x' } }),
      /metadata attributes _dr_seq/,
    ],
  ])('refuses a poison record when %s', (_label, c, message) => {
    expect(() => planWrite(c, m)).toThrow(UnappliableChangeError);
    expect(() => planWrite(c, m)).toThrow(message);
  });

  it('refuses a poison record when mapItem moves the key', () => {
    // The example mapping refuses legacy items that carry its key names, so a faulty mapping moves it here.
    const movesKey = { ...m, mapItem: (x: Item) => ({ ...m.mapItem(x), PK: { S: 'elsewhere' } }) };
    const c = change(ChangeKind.INSERT, key, '1', T0, { ...key });
    expect(() => planWrite(c, movesKey)).toThrow(UnappliableChangeError);
    expect(() => planWrite(c, movesKey)).toThrow(/must not move an item/);
  });
});

describe('Function: tombstoneExpiry', () => {
  it.each([
    ['NOT_STARTED', undefined, undefined],
    ['RUNNING', undefined, undefined],
    ['COMPLETE', T0 - 5000, Math.ceil((T0 + 3_600_000) / 1000)],
    ['COMPLETE', T0 + 10_000, Math.ceil((T0 + 10_000 + 3_600_000) / 1000)],
  ])('backfill %s completed at %s gives %s', (status, completedAt, expected) => {
    expect(tombstoneExpiry({ status, ...(completedAt ? { completedAt } : {}) }, T0, 3_600_000)).toBe(
      expected,
    );
  });
});

describe('Function: classifySkip', () => {
  const stored = (seq: string, ts: number, src = 'cdc'): Item => ({
    ...newKey,
    _dr_seq: { S: padSequence(seq) },
    _dr_src: { S: src },
    _dr_ts: { N: String(ts) },
  });
  it.each<[string, StreamChange, Item | undefined, SkipReason]>([
    [
      'the same record again',
      change(ChangeKind.REMOVE, key, '10', T0),
      stored('10', T0),
      SkipReason.DUPLICATE,
    ],
    [
      'an older record (replay)',
      change(ChangeKind.REMOVE, key, '10', T0),
      stored('20', T0 + 5000),
      SkipReason.STALE,
    ],
    [
      'an older record in the same second',
      change(ChangeKind.REMOVE, key, '10', T0),
      stored('20', T0),
      SkipReason.STALE,
    ],
    ['no stored item returned', change(ChangeKind.REMOVE, key, '10', T0), undefined, SkipReason.STALE],
    [
      'a record created provably later than the stored one but with a smaller sequence number',
      change(ChangeKind.REMOVE, key, '10', T0 + 5000),
      stored('20', T0),
      SkipReason.ORDER_VIOLATION,
    ],
    [
      'a later record within the tolerance',
      change(ChangeKind.REMOVE, key, '10', T0 + 1000),
      stored('20', T0),
      SkipReason.STALE,
    ],
    [
      'a stored repair item (its time is not a stream time)',
      change(ChangeKind.REMOVE, key, '10', T0 + 5000),
      stored('20', T0, 'repair'),
      SkipReason.STALE,
    ],
  ])('classifies %s', (_label, c, s, expected) => {
    expect(classifySkip(c, s, names, 1000)).toBe(expected);
  });
});

describe('Function: findSeqRegressions', () => {
  it('reports a record whose key already had a larger sequence number earlier in the delivery', () => {
    const other: Item = { userId: { S: 'u-2' } };
    const batch = [
      change(ChangeKind.REMOVE, key, '5', T0),
      change(ChangeKind.REMOVE, other, '3', T0), // another key may be lower: shards interleave keys
      change(ChangeKind.REMOVE, key, '4', T0),
      change(ChangeKind.REMOVE, key, '6', T0),
      change(ChangeKind.REMOVE, key, '6', T0),
    ];
    expect(findSeqRegressions(batch, ['userId'])).toEqual(['4', '6']);
  });
});

describe('Function: applyChange', () => {
  it('skips a stale change instead of failing, and names the stored sequence', async () => {
    // Prepare
    const table = new MemoryNewTable(names);
    const ctx = { migration: m, writer: table };
    await applyChange(change(ChangeKind.INSERT, key, '20', T0 + 1, { ...key, v: { N: '2' } }), ctx);

    // Act
    const outcome = await applyChange(
      change(ChangeKind.INSERT, key, '10', T0, { ...key, v: { N: '1' } }),
      ctx,
    );

    // Assess
    expect(outcome).toEqual({
      result: 'skipped',
      kind: 'upsert',
      seq: padSequence('10'),
      reason: SkipReason.STALE,
      storedSeq: padSequence('20'),
    });
    expect(table.get(newKey)?.v).toEqual({ N: '2' });
  });

  it('propagates store errors other than a failed condition (the record is retried)', async () => {
    const writer = { write: () => Promise.reject(new Error('throttled')) };
    await expect(
      applyChange(change(ChangeKind.REMOVE, key, '1', T0), { migration: m, writer }),
    ).rejects.toThrow('throttled');
  });

  it('is told a failed condition through StaleChangeError', () => {
    expect(new StaleChangeError('5', undefined).name).toBe('StaleChangeError');
  });
});

/**
 * Attributes of generated legacy images: anything except what the example mapping reserves, and
 * "__proto__", which the example mapping's `Object.assign` loses (planWrite refuses such a result:
 * see "refuses a mapping result that lost an attribute"). Other prototype member names are kept.
 */
const RESERVED = new Set([
  'userId',
  'PK',
  'SK',
  'profile',
  'fullName',
  'address',
  'displayName',
  '__proto__',
]);
const image = anyItem.map((i): Item => {
  const out = emptyItem();
  out.userId = key.userId as Item[string];
  for (const [n, v] of Object.entries(i)) if (!RESERVED.has(n) && !n.startsWith('_dr_')) out[n] = v;
  return out;
});

/** One item's events: increasing sequence numbers, non-decreasing creation times. */
const history = fc
  .array(
    fc.record({
      remove: fc.boolean(),
      image,
      gap: fc.integer({ min: 1, max: 1_000_000 }),
      dt: fc.integer({ min: 0, max: 3000 }),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((events) => {
    let seq = 10n ** 20n;
    let t = T0;
    return events.map((e): StreamChange => {
      seq += BigInt(e.gap);
      t += e.dt;
      return e.remove
        ? change(ChangeKind.REMOVE, key, String(seq), t)
        : change(ChangeKind.MODIFY, key, String(seq), t, e.image);
    });
  });

describe('Property: the apply rule converges', () => {
  it('any interleaving, duplication and replay of one item’s events, with a backfill write, ends at the last event', async () => {
    await fc.assert(
      fc.asyncProperty(
        history.chain((events) =>
          fc.record({
            events: fc.constant(events),
            // Every event at least once (Lambda's at-least-once), in any order, plus duplicates/replays.
            order: fc
              .tuple(
                fc.shuffledSubarray(
                  events.map((_, i) => i),
                  { minLength: events.length },
                ),
                fc.array(fc.nat({ max: events.length - 1 }), { maxLength: 10 }),
                fc.array(fc.nat({ max: 20 }), { maxLength: 10 }),
              )
              .map(([all, extra, positions]) => {
                const out = [...all];
                extra.forEach((e, i) => out.splice((positions[i] ?? 0) % (out.length + 1), 0, e));
                return out;
              }),
            backfillAt: fc.nat({ max: 20 }),
            backfillImage: image,
          }),
        ),
        async ({ events, order, backfillAt, backfillImage }) => {
          // Prepare
          const table = new MemoryNewTable(names);
          const ctx = { migration: m, writer: table };
          const outcomes = [];

          // Act
          for (let i = 0; i <= order.length; i++) {
            if (i === backfillAt % (order.length + 1)) table.backfill(newKey, m.mapItem(backfillImage), T0);
            if (i < order.length)
              outcomes.push(await applyChange(events[order[i] as number] as StreamChange, ctx));
          }

          // Assess: the last event's image (or its tombstone), carrying its sequence number
          const last = events[events.length - 1] as StreamChange;
          const stored = table.get(newKey) as Item;
          expect(stored._dr_seq).toEqual({ S: padSequence(last.sequenceNumber) });
          if (last.eventName === ChangeKind.REMOVE) expect(isTombstone(stored, names)).toBe(true);
          else
            expect(canonicalItem(stripMetadata(stored, names))).toBe(
              canonicalItem(m.mapItem(last.newImage as Item)),
            );
          // _dr_seq never went backwards, and the backfill never overwrote a change.
          const seqs = table.seqHistory.get(canonicalItem(newKey)) ?? [];
          expect(seqs).toEqual([...seqs].sort());
          expect(seqs.slice(1).includes(BACKFILL_SEQ)).toBe(false);
          // Replays of a consistent history are never mistaken for order violations.
          expect(
            outcomes.some((o) => o.result === 'skipped' && o.reason === SkipReason.ORDER_VIOLATION),
          ).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
