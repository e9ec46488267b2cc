/**
 * The example mapping (examples/users/migration.ts) is what users copy, so it must be invertible on
 * every legacy item it accepts: `unmapItem(mapItem(x))` is `x` exactly, or `mapItem` refuses `x` with a
 * reason (the pipeline then dead-letters or records it as poison). And `unmapItem` accepts exactly the
 * items `mapItem` can produce, so verification can compute every new item's legacy origin.
 */
import fc from 'fast-check';
import type { AttributeValue, Item } from '../../../core/model';
import { usersMigration } from '../../../examples/users/migration';
import { attributeValue } from '../../helpers/arbitraries';

const m = usersMigration;

/** Names the mapping renames, moves or reserves, mixed with arbitrary ones. */
const attributeName = fc.oneof(
  fc.constantFrom('fullName', 'displayName', 'address', 'profile', 'PK', 'SK', 'userId', 'city', '__proto__'),
  fc.string({ minLength: 1, maxLength: 8 }),
);

/** Builds an item with own data properties only (an attribute may be called `__proto__`). */
function itemOf(entries: ReadonlyArray<readonly [string, AttributeValue]>): Item {
  return Object.fromEntries(entries) as Item;
}

/** Any legacy item of the example's table: a string `userId` plus arbitrary attributes. */
const legacyItem: fc.Arbitrary<Item> = fc
  .tuple(
    fc.string({ minLength: 1, maxLength: 6 }),
    fc.array(fc.tuple(attributeName, attributeValue), { maxLength: 6 }),
  )
  .map(([id, attrs]) => itemOf([...attrs.filter(([n]) => n !== 'userId'), ['userId', { S: id }]]));

/** What mapItem does with `x`: the mapped item, or the reason it refused. */
function tryMap(x: Item): { item: Item } | { refused: string } {
  try {
    return { item: m.mapItem(x) };
  } catch (err) {
    return { refused: (err as Error).message };
  }
}

describe('Example mapping: users', () => {
  it('either refuses a legacy item with a reason or gives it back exactly (property)', () => {
    fc.assert(
      fc.property(legacyItem, (x) => {
        // Act
        const mapped = tryMap(x);

        // Assess
        if ('refused' in mapped) {
          expect(mapped.refused).toMatch(
            /^legacy item has an? "[^"]+" attribute, which this mapping reserves/,
          );
          return;
        }
        expect(m.unmapItem(mapped.item)).toEqual(x);
      }),
      { numRuns: 2000 },
    );
  });

  it.each<[string, Item, string]>([
    ['its own displayName', { userId: { S: 'u' }, displayName: { S: 'Ada' } }, 'displayName'],
    [
      'both fullName and displayName',
      { userId: { S: 'u' }, fullName: { S: 'Ada L.' }, displayName: { S: 'Ada' } },
      'displayName',
    ],
    ['a profile', { userId: { S: 'u' }, profile: { S: 'x' } }, 'profile'],
    ['a PK attribute', { userId: { S: 'u' }, PK: { S: 'USER#other' } }, 'PK'],
    ['an SK attribute', { userId: { S: 'u' }, SK: { S: 'ORDER' } }, 'SK'],
  ])('refuses a legacy item with %s, naming the attribute', (_name, x, attribute) => {
    // Act / Assess
    expect(() => m.mapItem(x)).toThrow(
      `legacy item has a "${attribute}" attribute, which this mapping reserves`,
    );
  });

  it('renames fullName and moves address, and keeps every other attribute as it is', () => {
    // Prepare
    const x: Item = {
      userId: { S: 'u-1' },
      fullName: { S: 'Ada' },
      address: { M: { city: { S: 'London' } } },
      n: { N: '12345678901234567890123456789012345678' },
    };

    // Act
    const mapped = m.mapItem(x);

    // Assess
    expect(mapped).toEqual({
      PK: { S: 'USER#u-1' },
      SK: { S: 'PROFILE' },
      displayName: { S: 'Ada' },
      profile: { M: { address: { M: { city: { S: 'London' } } } } },
      n: { N: '12345678901234567890123456789012345678' },
    });
    expect(m.unmapItem(mapped)).toEqual(x);
  });

  it('accepts in unmapItem exactly the items mapItem produces (property)', () => {
    // A new item from anywhere: either unmapItem refuses it, or it is mapItem of what unmapItem gives.
    const newItem = fc
      .tuple(
        fc.string({ maxLength: 6 }),
        fc.constantFrom('PROFILE', 'OTHER'),
        fc.array(fc.tuple(attributeName, attributeValue), { maxLength: 6 }),
        fc.option(attributeValue),
      )
      .map(([id, sk, attrs, address]) =>
        itemOf([
          ...attrs.filter(([n]) => n !== 'PK' && n !== 'SK'),
          ...(address ? ([['profile', { M: { address } }]] as const) : []),
          ['PK', { S: `USER#${id}` }],
          ['SK', { S: sk }],
        ]),
      );
    fc.assert(
      fc.property(newItem, (y) => {
        // Act
        let back: Item;
        try {
          back = m.unmapItem(y);
        } catch (err) {
          // Assess: a refusal names what is wrong
          expect((err as Error).message).toMatch(/^new item /);
          return;
        }

        // Assess
        expect(m.mapItem(back)).toEqual(y);
      }),
      { numRuns: 2000 },
    );
  });
});
