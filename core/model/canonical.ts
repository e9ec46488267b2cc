/**
 * Canonical encoding of values and items: equal values (in DynamoDB's sense) encode to equal strings,
 * which is what equality, diffing and checksums use; and the ordering of numbers and scalars as DynamoDB
 * orders them, without rounding.
 */
import { type AttributeValue, type Item, InvalidValueError } from './values';
import { normalizeNumber } from './validation';

/**
 * A canonical, injective string encoding of a value: equal values (in DynamoDB's sense: sets are
 * unordered, numbers compare by value, maps by key) encode to equal strings and different values to
 * different strings. Used for equality, diffing and checksums.
 */
export function canonical(value: AttributeValue): string {
  if ('S' in value) return `S${JSON.stringify(value.S)}`;
  if ('N' in value) return `N${normalizeNumber(value.N)}`;
  if ('B' in value) return `B${Buffer.from(value.B).toString('base64')}`;
  if ('BOOL' in value) return value.BOOL ? 'T' : 'F';
  if ('NULL' in value) return 'Z';
  if ('SS' in value)
    return `SS[${value.SS.map((s) => JSON.stringify(s))
      .sort()
      .join(',')}]`;
  if ('NS' in value)
    return `NS[${value.NS.map((n) => normalizeNumber(n))
      .sort()
      .join(',')}]`;
  if ('BS' in value)
    return `BS[${value.BS.map((b) => Buffer.from(b).toString('base64'))
      .sort()
      .join(',')}]`;
  if ('L' in value) return `L[${value.L.map(canonical).join(',')}]`;
  if ('M' in value) return `M${canonicalItem(value.M)}`;
  throw new InvalidValueError('$', `unknown attribute value ${JSON.stringify(Object.keys(value))}`);
}

/** Canonical encoding of an item: attributes sorted by name. */
export function canonicalItem(item: Item): string {
  const names = Object.keys(item).sort();
  return `{${names.map((n) => `${JSON.stringify(n)}:${canonical(item[n] as AttributeValue)}`).join(',')}}`;
}

/** Compares two normalized decimals (no exponent) without converting them to JS numbers. */
function compareDecimals(a: string, b: string): number {
  const neg = (x: string): boolean => x.startsWith('-');
  if (neg(a) !== neg(b)) return neg(a) ? -1 : 1;
  const sign = neg(a) ? -1 : 1;
  const [ai = '', af = ''] = a.replace('-', '').split('.');
  const [bi = '', bf = ''] = b.replace('-', '').split('.');
  if (ai.length !== bi.length) return sign * (ai.length < bi.length ? -1 : 1);
  const width = Math.max(af.length, bf.length);
  const x = ai + af.padEnd(width, '0');
  const y = bi + bf.padEnd(width, '0');
  return sign * (x < y ? -1 : x > y ? 1 : 0);
}

/** Compares two DynamoDB numbers by value (no rounding). */
export function compareNumbers(a: string, b: string): number {
  return compareDecimals(normalizeNumber(a), normalizeNumber(b));
}

/**
 * Orders two scalar values as DynamoDB does (key order, `<` in conditions): numbers by value, strings
 * by their UTF-8 bytes, binary by bytes. Undefined when they cannot be ordered (different types, or not
 * S, N or B).
 */
export function compareScalars(a: AttributeValue, b: AttributeValue): number | undefined {
  if ('N' in a && 'N' in b) return compareNumbers(a.N, b.N);
  if ('S' in a && 'S' in b) return Buffer.compare(Buffer.from(a.S, 'utf8'), Buffer.from(b.S, 'utf8'));
  if ('B' in a && 'B' in b) return Buffer.compare(Buffer.from(a.B), Buffer.from(b.B));
  return undefined;
}

/** DynamoDB equality of two values. */
export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  return canonical(a) === canonical(b);
}

/** DynamoDB equality of two items. */
export function itemsEqual(a: Item, b: Item): boolean {
  return canonicalItem(a) === canonicalItem(b);
}
