/**
 * The in-memory new table of the apply-rule tests evaluates the ConditionExpression the code sends,
 * as DynamoDB does (the expected results below were observed on DynamoDB Local 3.3), so a test of
 * the apply rule fails when the rule's condition is wrong, not only when its text changes.
 */
import { StaleChangeError, type WritePlan, applyCondition, backfillCondition } from '../../../core/cdc';
import {
  BACKFILL_SEQ,
  metadataNames,
  padSequence,
  type AttributeValue,
  type Item,
} from '../../../core/model';
import { ConditionExpressionError, evaluateCondition } from '../../helpers/condition-expression';
import { MemoryNewTable } from '../../helpers/memory-new-table';

const names = metadataNames();
const key: Item = { PK: { S: 'k' } };
const stored: Item = {
  id: { S: 'x' },
  s: { S: 'b' },
  n: { N: '10' },
  bo: { BOOL: true },
  bin: { B: new Uint8Array([1, 2]) },
};

describe('Function: evaluateCondition', () => {
  it.each<[string, Record<string, string>, Record<string, AttributeValue>, boolean]>([
    ['#a <> :v', { '#a': 'missing' }, { ':v': { S: 'a' } }, true],
    ['#a < :v', { '#a': 'missing' }, { ':v': { S: 'a' } }, false],
    ['#a = :v', { '#a': 'missing' }, { ':v': { S: 'a' } }, false],
    ['#a <> :v', { '#a': 'n' }, { ':v': { S: '10' } }, true],
    ['#a < :v', { '#a': 'n' }, { ':v': { S: 'z' } }, false],
    ['#a < :v', { '#a': 'n' }, { ':v': { N: '9.5' } }, false],
    ['#a < :v', { '#a': 'n' }, { ':v': { N: '1e2' } }, true],
    ['#a = :v', { '#a': 'n' }, { ':v': { N: '10.0' } }, true],
    ['NOT #a = :v', { '#a': 'n' }, { ':v': { N: '10.0' } }, false],
    ['attribute_not_exists(#a) or #a < :v', { '#a': 's' }, { ':v': { S: 'c' } }, true],
    ['(attribute_not_exists(#a)) OR (#a < :v)', { '#a': 's' }, { ':v': { S: 'a' } }, false],
    ['attribute_exists(#a) AND #a >= :v', { '#a': 's' }, { ':v': { S: 'b' } }, true],
    ['#a <= :v AND #a > :w', { '#a': 's' }, { ':v': { S: 'b' }, ':w': { S: 'a' } }, true],
    ['#a = :v', { '#a': 'bin' }, { ':v': { B: new Uint8Array([1, 2]) } }, true],
    ['#a < :v', { '#a': 's' }, { ':v': { S: 'é' } }, true], // UTF-8 bytes: 'b' (0x62) < 'é' (0xC3 0xA9)
    ['attribute_not_exists(#a) OR #a < :v AND #a > :v', { '#a': 's' }, { ':v': { S: 'b' } }, false],
  ])('%s with %j %j is %p on the stored item', (expression, n, v, expected) => {
    expect(evaluateCondition(expression, n, v, stored)).toBe(expected);
  });

  it.each<[string, Record<string, string>, Record<string, AttributeValue>, RegExp]>([
    [
      '#a < :v',
      { '#a': 'bo' },
      { ':v': { BOOL: true } },
      /Incorrect operand type for operator or function; operator or function: <, operand type: BOOL/,
    ],
    [
      '#a < :v',
      {},
      { ':v': { S: 'a' } },
      /attribute name used in the document path is not defined; attribute name: #a/,
    ],
    ['#a < :v', { '#a': 's' }, {}, /attribute value used in expression is not defined; attribute value: :v/],
    ['#a < :v', { '#a': 's', '#b': 'n' }, { ':v': { S: 'a' } }, /unused in expressions: keys: \{#b\}/],
    ['#a < :v', { '#a': 's' }, { ':v': { S: 'a' }, ':w': { S: 'b' } }, /unused in expressions: keys: \{:w\}/],
    [
      '#a BETWEEN :v AND :w',
      { '#a': 's' },
      { ':v': { S: 'a' }, ':w': { S: 'b' } },
      /not supported by this fake/,
    ],
    ['(#a < :v', { '#a': 's' }, { ':v': { S: 'a' } }, /Syntax error/],
  ])('refuses %s like DynamoDB (ValidationException)', (expression, n, v, message) => {
    expect(() => evaluateCondition(expression, n, v, stored)).toThrow(ConditionExpressionError);
    expect(() => evaluateCondition(expression, n, v, stored)).toThrow(message);
  });
});

describe('Class: MemoryNewTable', () => {
  const plan = (seq: string, condition = applyCondition(padSequence(seq), names)): WritePlan => ({
    kind: 'upsert',
    key,
    item: { ...key, [names.seq]: { S: padSequence(seq) } },
    seq: padSequence(seq),
    condition,
  });

  it('evaluates the condition it is sent, whatever its spelling', async () => {
    // Prepare
    const table = new MemoryNewTable(names);
    const spelled = {
      ...applyCondition(padSequence('5'), names),
      expression: '(attribute_not_exists(#seq))  or  (#seq < :seq)',
    };

    // Act
    await table.write(plan('5', spelled));

    // Assess
    expect(table.get(key)?.[names.seq]).toEqual({ S: padSequence('5') });
  });

  it('fails a write whose condition is false with StaleChangeError carrying the stored item (ALL_OLD)', async () => {
    // Prepare: a condition that forgets the "absent" case refuses the first write of a key, as in DynamoDB.
    const table = new MemoryNewTable(names);
    const olderOnly = { ...applyCondition(padSequence('5'), names), expression: '#seq < :seq' };
    await table.write(plan('7'));

    // Act / Assess
    await expect(new MemoryNewTable(names).write(plan('5', olderOnly))).rejects.toBeInstanceOf(
      StaleChangeError,
    );
    const stale = await table.write(plan('6')).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(StaleChangeError);
    expect((stale as StaleChangeError).stored?.[names.seq]).toEqual({ S: padSequence('7') });
  });

  it('writes a backfill item only under the backfill condition the code defines', () => {
    const table = new MemoryNewTable(names);
    expect(table.backfill(key, { ...key, v: { S: 'copied' } }, 1)).toBe(true);
    expect(table.backfill(key, { ...key, v: { S: 'again' } }, 2)).toBe(false);
    expect(table.get(key)?.[names.seq]).toEqual({ S: BACKFILL_SEQ });
    expect(backfillCondition(names).expression).toBe('attribute_not_exists(#seq)');
  });
});
