import fc from 'fast-check';
import {
  decodePageToken,
  encodePageToken,
  queryFingerprint,
  ShadowClass,
  classifyDifference,
  compareItems,
} from '../../../core/read';
import { plainJsonItem, normalizeNumber } from '../../../core/model';
import { item, numberText } from '../../helpers/arbitraries';

describe('Function: plainJsonItem', () => {
  it('writes numbers as JSON numerals with every digit', () => {
    const text = plainJsonItem({
      big: { N: '12345678901234567890123456789012345678' },
      tiny: { N: '1E-5' },
      ns: { NS: ['1.50', '-0'] },
    });
    expect(text).toBe('{"big":12345678901234567890123456789012345678,"tiny":0.00001,"ns":[1.5,0]}');
  });

  it('always produces valid JSON whose numbers read back to the same decimal text (property)', () => {
    fc.assert(
      fc.property(item, (it) => {
        const text = plainJsonItem(it);
        const numbers: string[] = [];
        JSON.parse(text, function (_k, v: unknown, ctx?: { source?: string }) {
          if (typeof v === 'number' && ctx?.source) numbers.push(ctx.source);
          return v;
        });
        for (const n of numbers) expect(normalizeNumber(n)).toBe(n);
      }),
      { numRuns: 300 },
    );
  });

  it('writes every number DynamoDB accepts as a parseable numeral (property)', () => {
    fc.assert(
      fc.property(numberText, (n) => {
        expect(() => JSON.parse(plainJsonItem({ n: { N: n } }))).not.toThrow();
      }),
    );
  });
});

describe('Function: decodePageToken', () => {
  const fp = queryFingerprint({ pk: 'a' });
  const token = encodePageToken(
    { migrationId: 'users', store: 'new', query: fp, startKey: { PK: { S: 'USER#a' }, n: { N: '1' } } },
    'secret',
  );

  it('round-trips a token it issued', () => {
    expect(decodePageToken(token, 'secret', 'users', fp)).toMatchObject({
      store: 'new',
      startKey: { PK: { S: 'USER#a' } },
    });
  });

  it('refuses altered, foreign, misplaced and malformed tokens', () => {
    const [body, mac] = token.split('.') as [string, string];
    const altered = Buffer.from(body, 'base64url').toString().replace('"new"', '"legacy"');
    expect(() =>
      decodePageToken(`${Buffer.from(altered).toString('base64url')}.${mac}`, 'secret', 'users', fp),
    ).toThrow(/does not verify/);
    expect(() => decodePageToken(token, 'other', 'users', fp)).toThrow(/does not verify/);
    expect(() => decodePageToken(token, 'secret', 'orders', fp)).toThrow(/migration/);
    expect(() => decodePageToken(token, 'secret', 'users', queryFingerprint({ pk: 'b' }))).toThrow(
      /different query/,
    );
    expect(() => decodePageToken('garbage', 'secret', 'users', fp)).toThrow(/malformed/);
  });
});

describe('Function: classifyDifference', () => {
  it('classifies first comparisons', () => {
    expect(compareItems(undefined, undefined)).toBe(ShadowClass.MATCH);
    expect(compareItems({ a: { S: 'x' } }, undefined)).toBe(ShadowClass.MISSING);
    expect(compareItems(undefined, { a: { S: 'x' } })).toBe(ShadowClass.EXTRA);
    expect(compareItems({ a: { N: '1.0' } }, { a: { N: '1' } })).toBe(ShadowClass.MATCH);
    expect(compareItems({ a: { N: '1' } }, { a: { N: '2' } })).toBe(ShadowClass.CONTENT);
  });

  it('calls a difference drift only when the re-check after the frontier passed still finds it on an unchanged item', () => {
    expect(classifyDifference(ShadowClass.CONTENT)).toEqual({ class: 'within-lag', first: 'content' });
    expect(classifyDifference(ShadowClass.CONTENT, { kind: 'frontier-not-reached' }).class).toBe(
      'within-lag',
    );
    expect(
      classifyDifference(ShadowClass.MISSING, { kind: 'done', legacyChanged: true, second: 'missing' }).class,
    ).toBe('within-lag');
    expect(
      classifyDifference(ShadowClass.MISSING, { kind: 'done', legacyChanged: false, second: 'match' }).class,
    ).toBe('within-lag');
    expect(
      classifyDifference(ShadowClass.MISSING, { kind: 'done', legacyChanged: false, second: 'missing' })
        .class,
    ).toBe('missing');
    expect(classifyDifference(ShadowClass.MATCH).class).toBe('match');
  });

  it('counts an item new holds but unmapItem refuses as unmappable at once (a mapping defect, not lag)', () => {
    expect(classifyDifference(ShadowClass.UNMAPPABLE)).toEqual({ class: 'unmappable', first: 'unmappable' });
  });
});
