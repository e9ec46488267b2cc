import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ShadowCounters } from '../../../adapters/shadow-counters';
import { shadowCounterKey, sumShadowCounters, surfaceFacts } from '../../../core/control';

const NOW = Date.parse('2026-12-04T12:00:30Z');

describe('Class: ShadowCounters', () => {
  const ddb = mockClient(DynamoDBClient);
  afterEach(() => ddb.reset());

  it('coalesces a burst into one ADD per (minute, class) in flight, with a TTL', async () => {
    let release: () => void = () => undefined;
    ddb
      .on(UpdateItemCommand)
      .callsFakeOnce(() => new Promise<object>((r) => (release = () => r({}))))
      .resolves({});
    const counters = new ShadowCounters(new DynamoDBClient({ region: 'eu-west-1' }), 'ctl', 'users');
    for (let i = 0; i < 100; i += 1) counters.record('match', NOW);
    release();
    await counters.drain();
    const calls = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.ExpressionAttributeValues?.[':n'])).toEqual([{ N: '1' }, { N: '99' }]);
    expect(calls[0]).toMatchObject({
      Key: { pk: { S: 'MIGRATION#users' }, sk: { S: 'SHADOW#2026-12-04T12:00' } },
      UpdateExpression: 'ADD #c :n SET expiresAt = if_not_exists(expiresAt, :ttl)',
      ExpressionAttributeNames: { '#c': 'match' },
    });
  });

  it("counts a surface page's comparison for its surface only (the overall classes are key comparisons), and its served pages apart", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const counters = new ShadowCounters(new DynamoDBClient({ region: 'eu-west-1' }), 'ctl', 'users');
    counters.record('missing', NOW, 'by-email');
    counters.record('missing', NOW);
    counters.served('by-email', 'new', NOW);
    await counters.drain();
    const calls = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.UpdateExpression, c.ExpressionAttributeNames])).toEqual([
      ['ADD #c :n SET expiresAt = if_not_exists(expiresAt, :ttl)', { '#c': 'by-email#missing' }],
      ['ADD #c :n SET expiresAt = if_not_exists(expiresAt, :ttl)', { '#c': 'missing' }],
      ['ADD #c :n SET expiresAt = if_not_exists(expiresAt, :ttl)', { '#c': 'by-email#served-new' }],
    ]);
  });

  it('never throws into the read path: a failed write drops and counts its comparisons', async () => {
    ddb.on(UpdateItemCommand).rejects(new Error('throttled'));
    const counters = new ShadowCounters(new DynamoDBClient({ region: 'eu-west-1' }), 'ctl', 'users');
    expect(() => counters.record('content', NOW)).not.toThrow();
    await counters.drain();
    expect(counters).toMatchObject({ dropped: 1, failedWrites: 1 });
  });

  it('bounds what it holds: beyond maxPendingKeys a comparison is dropped and counted', async () => {
    ddb.on(UpdateItemCommand).callsFake(() => new Promise(() => undefined));
    const counters = new ShadowCounters(new DynamoDBClient({ region: 'eu-west-1' }), 'ctl', 'users', {
      maxPendingKeys: 2,
    });
    for (const cls of ['match', 'missing', 'extra', 'content']) counters.record(cls, NOW);
    counters.record('match', NOW);
    counters.record('match', NOW);
    counters.record('missing', NOW);
    counters.record('extra', NOW);
    expect(counters.dropped).toBe(3);
  });
});

describe('Function: shadowCounterKey / sumShadowCounters', () => {
  it('keys by the UTC minute and sums class attributes only', () => {
    expect(shadowCounterKey(NOW)).toBe('SHADOW#2026-12-04T12:00');
    expect(
      sumShadowCounters(0, [
        { sk: 'SHADOW#a', match: 3, content: 1, expiresAt: 99 },
        { sk: 'SHADOW#b', match: 2, 'within-lag': 4 },
      ]).byClass,
    ).toEqual({ match: 5, content: 1, 'within-lag': 4 });
  });
});

describe('Function: sumShadowCounters / surfaceFacts (per surface)', () => {
  const window = sumShadowCounters(0, [
    {
      sk: 'SHADOW#a',
      match: 3,
      missing: 1,
      'by-email#match': 2,
      'by-email#missing': 1,
      'by-email#served-new': 7,
    },
    {
      sk: 'SHADOW#b',
      match: 1,
      'index-lag': 2,
      'by-email#match': 1,
      'by-email#index-lag': 2,
      'by-email#served-legacy': 4,
    },
  ]);

  it('keeps surface counters out of the overall classes and sums them per surface', () => {
    expect(window.byClass).toEqual({ match: 4, missing: 1, 'index-lag': 2 });
    expect(window.bySurface).toEqual({
      'by-email': { byClass: { match: 3, missing: 1, 'index-lag': 2 }, served: { new: 7, legacy: 4 } },
    });
  });

  it('gives each named surface its served pages, comparisons (lag excluded) and mismatch rate; zeros when absent', () => {
    expect(surfaceFacts(window, ['by-email', 'base'])).toEqual([
      {
        surface: 'by-email',
        servedLegacy: 4,
        servedNew: 7,
        compared: 4,
        mismatches: 1,
        lagExplained: 2,
        mismatchRate: 0.25,
      },
      { surface: 'base', servedLegacy: 0, servedNew: 0, compared: 0, mismatches: 0, lagExplained: 0 },
    ]);
  });
});
