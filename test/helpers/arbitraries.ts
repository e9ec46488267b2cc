/**
 * fast-check generators of DynamoDB values, shared by property tests.
 */
import fc from 'fast-check';
import type { AttributeValue, Item } from '../../core/model';

/** DynamoDB numbers up to 38 significant digits, with fractions and exponents. */
export const numberText: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('', '-'),
    fc.stringMatching(/^[1-9][0-9]{0,37}$/),
    fc.integer({ min: 0, max: 20 }),
    fc.integer({ min: -60, max: 60 }),
  )
  .map(([sign, digits, fracLen, exp]) => {
    const f = Math.min(fracLen, digits.length - 1);
    const body = f > 0 ? `${digits.slice(0, digits.length - f)}.${digits.slice(digits.length - f)}` : digits;
    return exp === 0 ? `${sign}${body}` : `${sign}${body}E${exp}`;
  });

const bytes = fc.uint8Array({ maxLength: 16 }).map((b) => new Uint8Array(b));

/** Names of JavaScript prototype members: DynamoDB stores attributes so named like any other. */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
] as const;

/** Attribute names, prototype member names included (in plain and null-prototype objects). */
export const attributeName = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(fc.string({ minLength: 1, maxLength }), fc.constantFrom(...PROTOTYPE_NAMES));

/** Any attribute value, nested up to a few levels. */
export const attributeValue: fc.Arbitrary<AttributeValue> = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string().map((S) => ({ S })),
    numberText.map((N) => ({ N })),
    bytes.map((B) => ({ B })),
    fc.boolean().map((BOOL) => ({ BOOL })),
    fc.constant({ NULL: true as const }),
    fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 5 }).map((SS) => ({ SS })),
    fc
      .uniqueArray(fc.stringMatching(/^[1-9][0-9]{0,37}$/), { minLength: 1, maxLength: 5 })
      .map((NS) => ({ NS })),
    fc
      .uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 4 }), {
        minLength: 1,
        maxLength: 4,
        selector: (b) => Buffer.from(b).toString('hex'),
      })
      .map((bs) => ({ BS: bs.map((b) => new Uint8Array(b)) })),
    fc.array(tie('value'), { maxLength: 4 }).map((L) => ({ L })),
    fc.dictionary(attributeName(6), tie('value'), { maxKeys: 4 }).map((M) => ({ M })),
  ),
})).value;

/** Any item. */
export const item: fc.Arbitrary<Item> = fc.dictionary(attributeName(8), attributeValue, { maxKeys: 6 });
