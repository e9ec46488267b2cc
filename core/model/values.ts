/**
 * Full-fidelity DynamoDB values.
 *
 * Every part of dualread works on raw `AttributeValue` maps: numbers stay decimal strings (DynamoDB
 * numbers carry 38 significant digits, JS numbers 15-17), binary stays bytes, sets stay sets. This
 * module defines that type without importing the AWS SDK (core/ is pure) and gives the operations the
 * rest of the system needs: runtime validation, canonical encoding (equality and checksums), number
 * normalization and a lossless JSON codec (DynamoDB JSON with base64 binary).
 *
 * Attribute names are user data, and DynamoDB accepts any name, including those of JavaScript
 * prototype members (`__proto__`, `constructor`, `toString`, ...). So every item and map built here is
 * a prototype-free container (`Object.create(null)`): assigning `out["__proto__"] = value` then
 * creates an attribute instead of replacing the prototype (which loses the attribute and makes the
 * value's tags readable through the prototype), and looking up a missing `toString` gives undefined,
 * not Object.prototype's function. `assertItem` refuses an item whose prototype was replaced that
 * way, or whose attribute has no value (`LostAttributeError`), so such a loss is named, never silent.
 */

/** One DynamoDB attribute value, structurally compatible with the SDK's `AttributeValue`. */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: Uint8Array }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly Uint8Array[] }
  | { readonly M: { readonly [name: string]: AttributeValue } }
  | { readonly L: readonly AttributeValue[] }
  | { readonly NULL: true }
  | { readonly BOOL: boolean };

/** An item (or key): attribute name to value. */
export type Item = { readonly [name: string]: AttributeValue };

/** The type tag of an attribute value. */
export type AttributeType = 'S' | 'N' | 'B' | 'SS' | 'NS' | 'BS' | 'M' | 'L' | 'NULL' | 'BOOL';

/** The scalar types allowed in key attributes. */
export type KeyAttributeType = 'S' | 'N' | 'B';

const TYPES: readonly AttributeType[] = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL'];

/** Raised when a value is not a well-formed DynamoDB attribute value. */
export class InvalidValueError extends Error {
  override readonly name: string = 'InvalidValueError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/**
 * A value lost on the way: an attribute without a value (an SDK deserializer drops the value of an
 * attribute named `__proto__`), or an item whose prototype was replaced because an attribute named
 * `__proto__` was assigned into a plain object (the attribute is then gone).
 */
export class LostAttributeError extends InvalidValueError {
  override readonly name = 'LostAttributeError';
}

/**
 * DynamoDB's nesting limit: an item and its nested maps and lists span at most 32 levels (the item is
 * level 1, so an attribute holds at most 31 nested containers; DynamoDB Local refuses the 32nd).
 */
export const MAX_NESTING_LEVELS = 32;

function tooDeep(path: string): InvalidValueError {
  return new InvalidValueError(
    path,
    `nested deeper than DynamoDB's ${MAX_NESTING_LEVELS} levels (an item and its nested maps and lists)`,
  );
}

/** A new prototype-free item (see the file comment). */
export function emptyItem(): Record<string, AttributeValue> {
  return Object.create(null) as Record<string, AttributeValue>;
}

/** True if `item` has an own attribute `name` (never an inherited prototype member). */
export function hasAttribute(item: Item, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(item, name);
}

/** A prototype-free item of the attributes of `parts`, later parts winning (like object spread). */
export function mergeItems(...parts: readonly Item[]): Item {
  const out = emptyItem();
  for (const part of parts) for (const name of Object.keys(part)) out[name] = part[name] as AttributeValue;
  return out;
}

/** DynamoDB's number grammar: optional sign, digits with optional fraction, optional exponent. */
const NUMBER_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Normalizes a DynamoDB number to its canonical decimal form without any rounding: no exponent, no
 * leading zeros, no trailing fractional zeros, `-0` becomes `0`. Two numbers are equal in DynamoDB
 * exactly when their normalized forms are equal strings.
 *
 * @throws InvalidValueError if `text` is not a number DynamoDB accepts (grammar, 38 significant digits)
 */
export function normalizeNumber(text: string, path = 'N'): string {
  if (!NUMBER_PATTERN.test(text)) throw new InvalidValueError(path, `"${text}" is not a number`);
  let sign = '';
  let body = text;
  if (body[0] === '+' || body[0] === '-') {
    sign = body[0] === '-' ? '-' : '';
    body = body.slice(1);
  }
  let exponent = 0;
  const e = body.search(/[eE]/);
  if (e >= 0) {
    exponent = Number(body.slice(e + 1));
    body = body.slice(0, e);
  }
  const dot = body.indexOf('.');
  let digits = dot >= 0 ? body.slice(0, dot) + body.slice(dot + 1) : body;
  // Position of the decimal point counted from the left of `digits`.
  let point = (dot >= 0 ? dot : body.length) + exponent;
  const leading = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(leading);
  point -= leading;
  digits = digits.replace(/0+$/, '');
  if (digits.length === 0) return '0';
  if (digits.length > 38) {
    throw new InvalidValueError(
      path,
      `"${text}" has ${digits.length} significant digits; DynamoDB allows 38`,
    );
  }
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return sign + out;
}

/** The type tag of a value. */
export function typeOf(value: AttributeValue): AttributeType {
  return Object.keys(value)[0] as AttributeType;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/**
 * Checks at run time that `value` is a well-formed attribute value (exactly one type tag, right
 * member types, numbers DynamoDB accepts, non-empty sets without duplicates, nesting within
 * DynamoDB's limit) and returns it typed. Used wherever values enter from outside (API requests,
 * stream records, files, mapping results).
 */
export function assertAttributeValue(value: unknown, path = '$'): AttributeValue {
  return checkValue(value, path, 2);
}

/** `level`: the nesting level a map or list here would have (the enclosing item is level 1). */
function checkValue(value: unknown, path: string, level: number): AttributeValue {
  if (value === undefined) throw noValue(path);
  if (!isPlainObject(value))
    throw new InvalidValueError(path, 'expected an attribute value object like {"S": "x"}');
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (keys.length !== 1) {
    throw new InvalidValueError(
      path,
      `expected exactly one type tag, found ${keys.length ? keys.join(', ') : 'none'}`,
    );
  }
  const tag = keys[0] as string;
  const inner = value[tag];
  switch (tag) {
    case 'S':
      if (typeof inner !== 'string') throw new InvalidValueError(path, 'S must be a string');
      return value as AttributeValue;
    case 'N':
      if (typeof inner !== 'string') throw new InvalidValueError(path, 'N must be a string of digits');
      normalizeNumber(inner, path);
      return value as AttributeValue;
    case 'B':
      if (!(inner instanceof Uint8Array)) throw new InvalidValueError(path, 'B must be bytes');
      return value as AttributeValue;
    case 'BOOL':
      if (typeof inner !== 'boolean') throw new InvalidValueError(path, 'BOOL must be true or false');
      return value as AttributeValue;
    case 'NULL':
      if (inner !== true) throw new InvalidValueError(path, 'NULL must be true');
      return value as AttributeValue;
    case 'SS':
    case 'NS':
    case 'BS': {
      if (!Array.isArray(inner) || inner.length === 0)
        throw new InvalidValueError(path, `${tag} must be a non-empty array`);
      const seen = new Set<string>();
      inner.forEach((member: unknown, i) => {
        const p = `${path}.${tag}[${i}]`;
        let canonical: string;
        if (tag === 'BS') {
          if (!(member instanceof Uint8Array)) throw new InvalidValueError(p, 'BS members must be bytes');
          canonical = Buffer.from(member).toString('base64');
        } else {
          if (typeof member !== 'string') throw new InvalidValueError(p, `${tag} members must be strings`);
          canonical = tag === 'NS' ? normalizeNumber(member, p) : member;
        }
        if (seen.has(canonical)) throw new InvalidValueError(p, `duplicate member in ${tag}`);
        seen.add(canonical);
      });
      return value as AttributeValue;
    }
    case 'L':
      if (!Array.isArray(inner)) throw new InvalidValueError(path, 'L must be an array');
      if (level > MAX_NESTING_LEVELS) throw tooDeep(path);
      inner.forEach((member: unknown, i) => checkValue(member, `${path}.L[${i}]`, level + 1));
      return value as AttributeValue;
    case 'M':
      if (!isPlainObject(inner)) throw new InvalidValueError(path, 'M must be an object');
      if (level > MAX_NESTING_LEVELS) throw tooDeep(path);
      checkItem(inner, `${path}.M`, level + 1);
      return value as AttributeValue;
    default:
      throw new InvalidValueError(path, `unknown type tag "${tag}" (expected one of ${TYPES.join(', ')})`);
  }
}

/**
 * Checks at run time that `value` is an item (map of attribute values) and returns it typed.
 *
 * @throws LostAttributeError if an attribute has no value or the item's prototype was replaced
 * @throws InvalidValueError for any other malformed value
 */
export function assertItem(value: unknown, path = '$'): Item {
  return checkItem(value, path, 2);
}

function replacedPrototype(path: string): LostAttributeError {
  return new LostAttributeError(
    path,
    'its prototype is not Object.prototype: an attribute named "__proto__" was assigned into a plain ' +
      'object, which replaced the prototype and lost the attribute; build items with object spread, ' +
      'Object.create(null) or mergeItems',
  );
}

function hasReplacedPrototype(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto !== null && proto !== Object.prototype;
}

/** `level`: the nesting level of maps and lists held directly by this item's attributes. */
function checkItem(value: unknown, path: string, level: number): Item {
  if (!isPlainObject(value)) throw new InvalidValueError(path, 'expected an object of attribute values');
  if (hasReplacedPrototype(value)) throw replacedPrototype(path);
  for (const name of Object.keys(value)) checkValue(value[name], `${path}.${name}`, level);
  return value as Item;
}

/**
 * The first lost attribute of an item, nested maps and lists included (a value that is undefined, or
 * a map whose prototype was replaced), or undefined. The cheap part of `assertItem` for hot paths
 * that trust the rest of the values (the backfill checks every scanned and mapped item with it).
 */
export function findLostAttribute(item: Item, path = '$'): LostAttributeError | undefined {
  if (hasReplacedPrototype(item)) return replacedPrototype(path);
  for (const name of Object.keys(item)) {
    const lost = lostIn(item[name], `${path}.${name}`);
    if (lost) return lost;
  }
  return undefined;
}

function lostIn(value: AttributeValue | undefined, path: string): LostAttributeError | undefined {
  if (value === undefined) return noValue(path);
  if ('M' in value && value.M !== undefined) return findLostAttribute(value.M, `${path}.M`);
  if ('L' in value && Array.isArray(value.L)) {
    for (const [i, member] of value.L.entries()) {
      const lost = lostIn(member, `${path}.L[${i}]`);
      if (lost) return lost;
    }
  }
  return undefined;
}

function noValue(path: string): LostAttributeError {
  return new LostAttributeError(
    path,
    'has no value: it was lost on the way in (an AWS SDK deserializer drops the value of an ' +
      'attribute named "__proto__"); read items through makeDynamoClient, which keeps them',
  );
}

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

/** Picks the named own attributes of an item (for keys). Missing attributes are left out. */
export function pick(item: Item, names: readonly string[]): Item {
  const out = emptyItem();
  for (const n of names) {
    const v = hasAttribute(item, n) ? item[n] : undefined;
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/** The item without the attributes whose names start with `prefix`. */
export function omitPrefixed(item: Item, prefix: string): Item {
  const out = emptyItem();
  for (const [n, v] of Object.entries(item)) if (!n.startsWith(prefix)) out[n] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// DynamoDB JSON: the wire form for APIs, files and logs. Binary is base64; numbers stay strings.
// ---------------------------------------------------------------------------------------------

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
