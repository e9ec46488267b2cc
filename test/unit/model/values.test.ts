import fc from 'fast-check';
import {
  plainJsonItem,
  InvalidValueError,
  LostAttributeError,
  MAX_NESTING_LEVELS,
  type AttributeValue,
  type Item,
  assertItem,
  canonical,
  canonicalItem,
  findLostAttribute,
  itemFromDynamoJson,
  itemToDynamoJson,
  itemsEqual,
  normalizeNumber,
  omitPrefixed,
  pick,
  valuesEqual,
} from '../../../core/model';
import { FIDELITY_ATTRIBUTES } from '../../../examples/fidelity-corpus';
import { attributeValue, item } from '../../helpers/arbitraries';

describe('Function: normalizeNumber', () => {
  it.each([
    ['0', '0'],
    ['-0', '0'],
    ['000.000', '0'],
    ['1.50', '1.5'],
    ['+7', '7'],
    ['1E3', '1000'],
    ['1.5e-3', '0.0015'],
    ['-12.340E+2', '-1234'],
    ['.5', '0.5'],
    ['5.', '5'],
    ['12345678901234567890123456789012345678', '12345678901234567890123456789012345678'],
    ['9007199254740993', '9007199254740993'],
    ['1E-130', `0.${'0'.repeat(129)}1`],
  ])('normalizes %s to %s without rounding', (input, expected) => {
    expect(normalizeNumber(input)).toBe(expected);
  });

  it.each(['', 'abc', '1..2', '1e', '--1', 'NaN', 'Infinity', '0x10'])('rejects "%s"', (input) => {
    expect(() => normalizeNumber(input)).toThrow(InvalidValueError);
  });

  it('rejects a 39-digit number instead of rounding it', () => {
    expect(() => normalizeNumber('123456789012345678901234567890123456789')).toThrow(/39 significant digits/);
  });
});

describe('Function: canonical', () => {
  it('treats sets as unordered and numbers by value', () => {
    expect(valuesEqual({ SS: ['a', 'b'] }, { SS: ['b', 'a'] })).toBe(true);
    expect(valuesEqual({ NS: ['1.0', '2'] }, { NS: ['2', '1'] })).toBe(true);
    expect(valuesEqual({ N: '1.50' }, { N: '1.5' })).toBe(true);
  });

  it('distinguishes types that look alike', () => {
    expect(valuesEqual({ S: '1' }, { N: '1' })).toBe(false);
    expect(valuesEqual({ L: [{ S: 'a' }] }, { SS: ['a'] })).toBe(false);
    expect(valuesEqual({ NULL: true }, { BOOL: false })).toBe(false);
    expect(valuesEqual({ S: '' }, { NULL: true })).toBe(false);
    expect(valuesEqual({ B: new Uint8Array([1]) }, { S: 'AQ==' })).toBe(false);
  });

  it('keeps list order significant', () => {
    expect(valuesEqual({ L: [{ N: '1' }, { N: '2' }] }, { L: [{ N: '2' }, { N: '1' }] })).toBe(false);
  });

  it('tells apart numbers that differ only in the 38th digit', () => {
    expect(
      valuesEqual(
        { N: '12345678901234567890123456789012345678' },
        { N: '12345678901234567890123456789012345679' },
      ),
    ).toBe(false);
  });

  it('is independent of attribute order (property)', () => {
    fc.assert(
      fc.property(item, (i) => {
        const reversed = Object.fromEntries(Object.entries(i).reverse());
        expect(canonicalItem(reversed)).toBe(canonicalItem(i));
      }),
    );
  });

  it('is injective on different values (property)', () => {
    fc.assert(
      fc.property(attributeValue, attributeValue, (a, b) => {
        const same = JSON.stringify(itemToDynamoJson({ a })) === JSON.stringify(itemToDynamoJson({ a: b }));
        if (same) expect(canonical(a)).toBe(canonical(b));
      }),
    );
  });
});

describe('Function: itemFromDynamoJson', () => {
  it('round-trips any item through DynamoDB JSON text (property)', () => {
    fc.assert(
      fc.property(item, (i) => {
        const back = itemFromDynamoJson(JSON.parse(JSON.stringify(itemToDynamoJson(i))));
        expect(itemsEqual(back, i)).toBe(true);
        expect(itemToDynamoJson(back)).toEqual(itemToDynamoJson(i));
      }),
    );
  });

  it('round-trips the fidelity corpus exactly', () => {
    const text = JSON.stringify(itemToDynamoJson(FIDELITY_ATTRIBUTES));
    const back = itemFromDynamoJson(JSON.parse(text));
    expect(itemToDynamoJson(back)).toEqual(itemToDynamoJson(FIDELITY_ATTRIBUTES));
    expect(back.big).toEqual({ N: '12345678901234567890123456789012345678' });
  });

  it.each([
    [{ a: { S: 1 } }, '$.a: S must be a string'],
    [{ a: { N: 12 } }, '$.a: N must be a string of digits'],
    [{ a: { N: '1.2.3' } }, '$.a: "1.2.3" is not a number'],
    [{ a: { B: 'not base64!' } }, '$.a.B: binary must be a base64 string'],
    [{ a: { SS: [] } }, '$.a: SS must be a non-empty array'],
    [{ a: { SS: ['x', 'x'] } }, '$.a.SS[1]: duplicate member in SS'],
    [{ a: { NS: ['1', '1.0'] } }, '$.a.NS[1]: duplicate member in NS'],
    [{ a: { S: 'x', N: '1' } }, '$.a: expected exactly one type tag, found S, N'],
    [{ a: { X: 'x' } }, '$.a: unknown type tag "X"'],
    [{ a: { NULL: false } }, '$.a: NULL must be true'],
    [{ a: { M: { b: { L: [{ BOOL: 'yes' }] } } } }, '$.a.M.b.L[0]: BOOL must be true or false'],
    [[], '$: expected an object of attribute values'],
  ])('rejects %j with a message naming the path', (json, message) => {
    expect(() => itemFromDynamoJson(json)).toThrow(message);
  });
});

describe('Function: assertItem', () => {
  it('accepts the fidelity corpus', () => {
    expect(assertItem(FIDELITY_ATTRIBUTES)).toBe(FIDELITY_ATTRIBUTES);
  });
});

describe('Attribute names that are JavaScript prototype members', () => {
  const text =
    '{"__proto__":{"S":"p"},"constructor":{"N":"1"},"toString":{"M":{"__proto__":{"S":"inner"}}},"hasOwnProperty":{"L":[{"M":{"__proto__":{"NULL":true}}}]}}';

  it('decodes them into prototype-free containers, exactly', () => {
    // Act
    const i = itemFromDynamoJson(JSON.parse(text));

    // Assess
    expect(Object.getPrototypeOf(i)).toBeNull();
    expect(Object.keys(i)).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    expect(i['__proto__']).toEqual({ S: 'p' });
    const inner = (i['toString'] as unknown as { M: Item }).M;
    expect(Object.getPrototypeOf(inner)).toBeNull();
    expect(Object.keys(inner)).toEqual(['__proto__']);
    expect(JSON.stringify(itemToDynamoJson(i))).toBe(text);
    expect(canonicalItem(i)).toContain('"__proto__":S"p"');
    expect(plainJsonItem(i)).toBe(
      '{"__proto__":"p","constructor":1,"toString":{"__proto__":"inner"},"hasOwnProperty":[{"__proto__":null}]}',
    );
  });

  it('keeps them through pick and omitPrefixed, and never picks an inherited member', () => {
    const i = itemFromDynamoJson(JSON.parse(text));
    expect(Object.keys(pick(i, ['__proto__', 'valueOf', 'constructor']))).toEqual([
      '__proto__',
      'constructor',
    ]);
    expect(pick({ a: { S: 'x' } }, ['toString', 'a'])).toEqual({ a: { S: 'x' } });
    expect(Object.keys(omitPrefixed(i, 'to'))).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
  });

  it('refuses an item whose "__proto__" attribute was assigned into a plain object (the value became its prototype)', () => {
    // Prepare: what `out[name] = value` does for name "__proto__" on a plain object.
    const lost: Record<string, AttributeValue> = { id: { S: 'a' } };
    lost['__proto__'] = { S: 'p' };

    // Act / Assess
    expect(() => assertItem(lost, 'mapItem result')).toThrow(LostAttributeError);
    expect(() => assertItem(lost, 'mapItem result')).toThrow(
      /mapItem result: its prototype is not Object\.prototype: an attribute named "__proto__" was assigned/,
    );
  });

  it('refuses an attribute whose value is undefined (lost on the way in), naming it', () => {
    const i: Record<string, AttributeValue> = { id: { S: 'a' } };
    Object.defineProperty(i, '__proto__', {
      value: undefined,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    expect(() => assertItem(i)).toThrow(LostAttributeError);
    expect(() => assertItem(i)).toThrow(/\$\.__proto__: has no value/);
  });

  it('findLostAttribute names the first lost value or replaced prototype, nested ones included, and nothing else', () => {
    const good = itemFromDynamoJson(JSON.parse(text));
    const nested: Record<string, AttributeValue> = {};
    nested['__proto__'] = { S: 'p' };
    const undefinedInList = { a: { L: [{ S: 'x' }, undefined] } } as unknown as Item;
    expect(findLostAttribute(good)).toBeUndefined();
    expect(findLostAttribute({ m: { M: nested } })?.message).toMatch(/^\$\.m\.M: its prototype/);
    expect(findLostAttribute(undefinedInList, 'legacy item')?.message).toMatch(
      /^legacy item\.a\.L\[1\]: has no value/,
    );
  });

  it('round-trips any item, prototype member names included, through DynamoDB JSON text (property)', () => {
    fc.assert(
      fc.property(item, (i) => {
        const text = JSON.stringify(itemToDynamoJson(i));
        const back = itemFromDynamoJson(JSON.parse(text));
        expect(Object.keys(back)).toEqual(Object.keys(i));
        expect(JSON.stringify(itemToDynamoJson(back))).toBe(text);
        expect(canonicalItem(back)).toBe(canonicalItem(i));
      }),
    );
  });
});

describe('Nesting depth', () => {
  const nested = (containers: number): unknown => {
    let v: unknown = { S: 'leaf' };
    for (let n = 0; n < containers; n++) v = n % 2 ? { L: [v] } : { M: { a: v } };
    return { v };
  };

  it(`accepts ${MAX_NESTING_LEVELS} levels (the item and ${MAX_NESTING_LEVELS - 1} nested maps or lists), as DynamoDB does`, () => {
    expect(() => itemFromDynamoJson(nested(MAX_NESTING_LEVELS - 1))).not.toThrow();
    expect(() => assertItem(itemFromDynamoJson(nested(MAX_NESTING_LEVELS - 1)))).not.toThrow();
  });

  it.each([MAX_NESTING_LEVELS, 40_000])(
    'refuses %i nested containers with a named error, not a stack overflow',
    (n) => {
      expect(() => itemFromDynamoJson(nested(n))).toThrow(InvalidValueError);
      expect(() => itemFromDynamoJson(nested(n))).toThrow(/nested deeper than DynamoDB's 32 levels/);
    },
  );
});
