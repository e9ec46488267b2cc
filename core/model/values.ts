/**
 * Full-fidelity DynamoDB values.
 *
 * Every part of dualread works on raw `AttributeValue` maps: numbers stay decimal strings (DynamoDB
 * numbers carry 38 significant digits, JS numbers 15-17), binary stays bytes, sets stay sets. This
 * module defines that type without importing the AWS SDK (core/ is pure), its errors and the
 * prototype-free containers every item is built in. The operations the rest of the system needs are
 * next to it: runtime validation and number normalization (`validation.ts`), canonical encoding for
 * equality, ordering and checksums (`canonical.ts`), and a lossless JSON codec (`dynamo-json.ts`,
 * DynamoDB JSON with base64 binary).
 *
 * Attribute names are user data, and DynamoDB accepts any name, including those of JavaScript
 * prototype members (`__proto__`, `constructor`, `toString`, ...). So every item and map built here is
 * a prototype-free container (`Object.create(null)`): assigning `out["__proto__"] = value` then
 * creates an attribute instead of replacing the prototype (which loses the attribute and makes the
 * value's tags readable through the prototype), and looking up a missing `toString` gives undefined,
 * not Object.prototype's function. `assertItem` refuses an item whose prototype was replaced that
 * way, or whose attribute has no value (`LostAttributeError`), so such a loss is named, never silent.
 */
import { NamedError } from '../common';

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

/** Raised when a value is not a well-formed DynamoDB attribute value. */
export class InvalidValueError extends NamedError {
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
export class LostAttributeError extends InvalidValueError {}

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

/** The type tag of a value. */
export function typeOf(value: AttributeValue): AttributeType {
  return Object.keys(value)[0] as AttributeType;
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
