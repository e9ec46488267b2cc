/**
 * A legacy item holding every value shape that must survive the system byte-for-byte (issue 2):
 * 38-digit numbers, tiny and huge exponents, negative zero-ish values, binary with every byte, each
 * set type, NULL, BOOL, empty string, empty list and map, deeply nested maps and unicode.
 */
import type { AttributeValue, Item } from '../core/model';

function nested(depth: number): AttributeValue {
  return depth === 0
    ? {
        M: { leaf: { N: '12345678901234567890123456789012345678' }, bin: { B: new Uint8Array([0, 255, 1]) } },
      }
    : { M: { [`level${depth}`]: nested(depth - 1), list: { L: [{ NULL: true }, { S: '' }] } } };
}

const allBytes = new Uint8Array(256).map((_, i) => i);

/** Attributes of the corpus (without a key): merged into items by tests and workloads. */
export const FIDELITY_ATTRIBUTES: Item = {
  big: { N: '12345678901234567890123456789012345678' },
  bigNegative: { N: '-99999999999999999999999999999999999999' },
  tinyFraction: { N: '0.000000000000000000000000000000000000001' },
  hugeExponent: { N: '9.9999999999999999999999999999999999999E+125' },
  moreThanDouble: { N: '9007199254740993' },
  fraction: { N: '3.14159265358979323846264338327950288' },
  zero: { N: '0' },
  binary: { B: allBytes },
  emptyBinary: { B: new Uint8Array(0) },
  strings: { SS: ['a', 'b', 'ü', '😀', ' '] },
  numbers: { NS: ['1', '12345678901234567890123456789012345678', '-0.5', '1E-130'] },
  binaries: { BS: [new Uint8Array([0]), new Uint8Array([255, 254]), new Uint8Array([1, 2, 3])] },
  nothing: { NULL: true },
  yes: { BOOL: true },
  no: { BOOL: false },
  empty: { S: '' },
  unicode: { S: 'naïve café — 日本語 \u0000 \ud83d\ude00' },
  emptyList: { L: [] },
  emptyMap: { M: {} },
  mixedList: {
    L: [{ N: '1.0000000000000000000000000000000000001' }, { B: new Uint8Array([7]) }, { SS: ['x'] }],
  },
  deep: nested(12),
};
