/**
 * Encodes the system's own control documents (plain objects of strings, safe integers, booleans,
 * arrays and nested objects) as attribute values and back. It refuses anything it could not
 * round-trip exactly (non-safe numbers, NaN, functions), so control data can never be rounded.
 * User data never passes through here; it stays in `values.ts` form.
 */
import { type AttributeValue, type Item, InvalidValueError, emptyItem } from '../model';

/** A JSON-like value the codec round-trips exactly. */
export type ControlValue =
  | string
  | number
  | boolean
  | null
  | readonly ControlValue[]
  | { readonly [key: string]: ControlValue | undefined };

/** Encodes a control value. Undefined members of objects are left out. */
export function encodeControl(value: ControlValue, path = '$'): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'boolean') return { BOOL: value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value))) {
      throw new InvalidValueError(path, `number ${value} cannot be stored exactly`);
    }
    return { N: String(value) };
  }
  if (Array.isArray(value))
    return { L: value.map((v, i) => encodeControl(v as ControlValue, `${path}[${i}]`)) };
  return { M: encodeControlItem(value as { readonly [key: string]: ControlValue | undefined }, path) };
}

/** Encodes a control document as an item. */
export function encodeControlItem(
  doc: { readonly [key: string]: ControlValue | undefined },
  path = '$',
): Item {
  const out = emptyItem();
  for (const [k, v] of Object.entries(doc)) if (v !== undefined) out[k] = encodeControl(v, `${path}.${k}`);
  return out;
}

/** Decodes a control value; numbers must be exactly representable. */
export function decodeControl(value: AttributeValue, path = '$'): ControlValue {
  if ('S' in value) return value.S;
  if ('BOOL' in value) return value.BOOL;
  if ('NULL' in value) return null;
  if ('N' in value) {
    const n = Number(value.N);
    if (!Number.isFinite(n) || String(n) !== value.N) {
      throw new InvalidValueError(path, `control number ${value.N} is not exactly representable`);
    }
    return n;
  }
  if ('L' in value) return value.L.map((v, i) => decodeControl(v, `${path}[${i}]`));
  if ('M' in value) return decodeControlItem(value.M, path);
  throw new InvalidValueError(path, `control documents hold no ${Object.keys(value)[0]} values`);
}

/** Decodes an item into a control document. */
export function decodeControlItem(item: Item, path = '$'): { [key: string]: ControlValue } {
  // Prototype-free: a poison record's key (user attribute names) is stored in a control document.
  const out = Object.create(null) as { [key: string]: ControlValue };
  for (const [k, v] of Object.entries(item)) out[k] = decodeControl(v, `${path}.${k}`);
  return out;
}
