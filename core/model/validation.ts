/**
 * Runtime validation of attribute values and items (wherever values enter from outside: API requests,
 * stream records, files, mapping results), DynamoDB's number grammar and its normalization without
 * rounding, and the check for attributes lost on the way in (see `values.ts` on prototype-free items).
 */
import {
  type AttributeType,
  type AttributeValue,
  type Item,
  InvalidValueError,
  LostAttributeError,
} from './values';

const TYPES: readonly AttributeType[] = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'NULL', 'BOOL'];

/**
 * DynamoDB's nesting limit: an item and its nested maps and lists span at most 32 levels (the item is
 * level 1, so an attribute holds at most 31 nested containers; DynamoDB Local refuses the 32nd).
 */
export const MAX_NESTING_LEVELS = 32;

/** The error of a map or list nested deeper than DynamoDB allows. */
export function tooDeep(path: string): InvalidValueError {
  return new InvalidValueError(
    path,
    `nested deeper than DynamoDB's ${MAX_NESTING_LEVELS} levels (an item and its nested maps and lists)`,
  );
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

/** An object that is no array and no bytes: what an item or an attribute value object must be. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
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
