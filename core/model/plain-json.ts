/**
 * The plain-JSON form of items served by the read API (the default `format=plain`): what an
 * application would get from the DocumentClient, but lossless for numbers.
 *
 * | DynamoDB | plain JSON                                   |
 * |----------|----------------------------------------------|
 * | S        | string                                       |
 * | N        | JSON number written with every digit (the normalized decimal: no exponent, never rounded) |
 * | B        | base64 string                                |
 * | BOOL     | true / false                                 |
 * | NULL     | null                                         |
 * | M        | object                                       |
 * | L        | array                                        |
 * | SS / NS  | array of strings / numbers                   |
 * | BS       | array of base64 strings                      |
 *
 * Limits (use `format=dynamodb` when they matter): B and S, sets and lists are indistinguishable;
 * set member order is DynamoDB's, not meaningful; a JSON parser that reads numbers into doubles
 * (JSON.parse) rounds beyond 15-17 digits, so clients that need all 38 digits must parse numbers as
 * text (for example `JSON.parse` with a reviver on `context.source`, or a big-number JSON library).
 */
import { normalizeNumber } from './validation';
import type { AttributeValue, Item } from './values';

/** Writes one value as plain JSON text. */
export function plainJsonValue(value: AttributeValue): string {
  if ('S' in value) return JSON.stringify(value.S);
  if ('N' in value) return normalizeNumber(value.N);
  if ('B' in value) return JSON.stringify(Buffer.from(value.B).toString('base64'));
  if ('BOOL' in value) return value.BOOL ? 'true' : 'false';
  if ('NULL' in value) return 'null';
  if ('SS' in value) return `[${value.SS.map((s) => JSON.stringify(s)).join(',')}]`;
  if ('NS' in value) return `[${value.NS.map((n) => normalizeNumber(n)).join(',')}]`;
  if ('BS' in value)
    return `[${value.BS.map((b) => JSON.stringify(Buffer.from(b).toString('base64'))).join(',')}]`;
  if ('L' in value) return `[${value.L.map(plainJsonValue).join(',')}]`;
  if ('M' in value) return plainJsonItem(value.M);
  throw new TypeError(`unknown attribute value ${JSON.stringify(Object.keys(value))}`);
}

/** Writes an item as a plain JSON object (attributes in the item's order). */
export function plainJsonItem(item: Item): string {
  return `{${Object.entries(item)
    .map(([name, v]) => `${JSON.stringify(name)}:${plainJsonValue(v)}`)
    .join(',')}}`;
}
