/**
 * DynamoDB JSON: the wire form for APIs, files and logs. Binary is base64; numbers stay strings. Decoding
 * validates as `validation.ts` does and builds prototype-free items.
 */
import { type AttributeValue, type Item, InvalidValueError, emptyItem } from './values';
import { MAX_NESTING_LEVELS, assertAttributeValue, isPlainObject, tooDeep } from './validation';

/** A JSON-safe value in DynamoDB JSON form (binary as base64). */
export type JsonAttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] }
  | { M: { [name: string]: JsonAttributeValue } }
  | { L: JsonAttributeValue[] }
  | { NULL: true }
  | { BOOL: boolean };

/** An item in DynamoDB JSON form. */
export type JsonItem = { [name: string]: JsonAttributeValue };

/** Encodes a value as DynamoDB JSON (lossless; binary as base64). */
export function toDynamoJson(value: AttributeValue): JsonAttributeValue {
  if ('B' in value) return { B: Buffer.from(value.B).toString('base64') };
  if ('BS' in value) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if ('SS' in value) return { SS: [...value.SS] };
  if ('NS' in value) return { NS: [...value.NS] };
  if ('L' in value) return { L: value.L.map(toDynamoJson) };
  if ('M' in value) return { M: itemToDynamoJson(value.M) };
  return { ...value } as JsonAttributeValue;
}

/** Encodes an item as DynamoDB JSON (a prototype-free object). */
export function itemToDynamoJson(item: Item): JsonItem {
  const out = Object.create(null) as JsonItem;
  for (const [n, v] of Object.entries(item)) out[n] = toDynamoJson(v);
  return out;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: unknown, path: string): Uint8Array {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new InvalidValueError(path, 'binary must be a base64 string');
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Decodes and validates a DynamoDB JSON value (maps as prototype-free objects). */
export function fromDynamoJson(json: unknown, path = '$'): AttributeValue {
  return decodeValue(json, path, 2);
}

function decodeValue(json: unknown, path: string, level: number): AttributeValue {
  if (!isPlainObject(json))
    throw new InvalidValueError(path, 'expected an attribute value object like {"S": "x"}');
  const keys = Object.keys(json);
  if (keys.length === 1 && keys[0] === 'B')
    return assertAttributeValue({ B: decodeBase64(json.B, `${path}.B`) }, path);
  if (keys.length === 1 && keys[0] === 'BS') {
    if (!Array.isArray(json.BS)) throw new InvalidValueError(path, 'BS must be an array');
    return assertAttributeValue(
      { BS: json.BS.map((b: unknown, i) => decodeBase64(b, `${path}.BS[${i}]`)) },
      path,
    );
  }
  if (keys.length === 1 && keys[0] === 'L') {
    if (!Array.isArray(json.L)) throw new InvalidValueError(path, 'L must be an array');
    if (level > MAX_NESTING_LEVELS) throw tooDeep(path);
    return { L: json.L.map((m: unknown, i) => decodeValue(m, `${path}.L[${i}]`, level + 1)) };
  }
  if (keys.length === 1 && keys[0] === 'M') {
    if (level > MAX_NESTING_LEVELS) throw tooDeep(path);
    return { M: decodeItem(json.M, `${path}.M`, level + 1) };
  }
  return assertAttributeValue(json, path);
}

/** Decodes and validates an item in DynamoDB JSON form, into a prototype-free object. */
export function itemFromDynamoJson(json: unknown, path = '$'): Item {
  return decodeItem(json, path, 2);
}

function decodeItem(json: unknown, path: string, level: number): Item {
  if (!isPlainObject(json)) throw new InvalidValueError(path, 'expected an object of attribute values');
  const out = emptyItem();
  for (const n of Object.keys(json)) out[n] = decodeValue(json[n], `${path}.${n}`, level);
  return out;
}
