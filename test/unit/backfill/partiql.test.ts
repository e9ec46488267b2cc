import { BatchExecuteStatementCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BatchStatementError,
  IfAbsentWriter,
  StatementErrorKind,
  batchesWithDistinctKeys,
  classifyStatementError,
  insertStatement,
} from '../../../adapters/backfill-io';
import { type AttributeValue, type Item, canonicalItem } from '../../../core/model';
import { recordedTiming } from '../../helpers/recorded-timing';

const item = (pk: string, extra: Item = {}): Item => ({ PK: { S: pk }, SK: { S: 'P' }, ...extra });

describe('Function: insertStatement', () => {
  it('quotes the table in double quotes and every attribute name in single quotes, doubling inner quotes', () => {
    // Prepare
    const it: Item = { PK: { S: 'a' }, "it's": { S: 'x' }, 'say "hi"': { N: '1' }, "''": { NULL: true } };

    // Act
    const s = insertStatement('my"table', it);

    // Assess
    expect(s.Statement).toBe(`INSERT INTO "my""table" VALUE {'PK': ?, 'it''s': ?, 'say "hi"': ?, '''''': ?}`);
  });

  it('passes the values as AttributeValue parameters in the order of the names', () => {
    // Prepare
    const bytes = new Uint8Array([0, 255]);
    const it: Item = {
      z: { N: '12345678901234567890123456789012345678' },
      a: { B: bytes },
      m: { M: { n: { NS: ['1E-130'] } } },
    };

    // Act
    const s = insertStatement('t', it);

    // Assess
    expect(s.Statement).toBe(`INSERT INTO "t" VALUE {'z': ?, 'a': ?, 'm': ?}`);
    expect(s.Parameters).toEqual([
      { N: '12345678901234567890123456789012345678' },
      { B: bytes },
      { M: { n: { NS: ['1E-130'] } } },
    ]);
  });
});

describe('Function: classifyStatementError', () => {
  it.each([
    [undefined, StatementErrorKind.OK],
    ['DuplicateItem', StatementErrorKind.EXISTS],
    ['ConditionalCheckFailed', StatementErrorKind.EXISTS],
    ['ProvisionedThroughputExceeded', StatementErrorKind.RETRY],
    ['ThrottlingError', StatementErrorKind.RETRY],
    ['RequestLimitExceeded', StatementErrorKind.RETRY],
    ['InternalServerError', StatementErrorKind.RETRY],
    ['TransactionConflict', StatementErrorKind.RETRY],
    ['ValidationError', StatementErrorKind.POISON],
    ['ResourceNotFound', StatementErrorKind.FAIL],
    ['AccessDenied', StatementErrorKind.FAIL],
    ['ItemCollectionSizeLimitExceeded', StatementErrorKind.FAIL],
    ['SomethingNew', StatementErrorKind.FAIL],
  ])('classifies %p as %s', (code, kind) => {
    expect(classifyStatementError(code)).toBe(kind);
  });
});

describe('Function: batchesWithDistinctKeys', () => {
  it('fills batches up to the size and never puts two items with the same key in one batch', () => {
    // Prepare: 30 items, item 3 and 5 share a key with item 1.
    const items = Array.from({ length: 30 }, (_, i) => item(`k${i}`));
    items[3] = item('k1', { v: { S: 'again' } });
    items[5] = item('k1', { v: { S: 'third' } });

    // Act
    const batches = batchesWithDistinctKeys(items, ['PK', 'SK'], 25);

    // Assess
    expect(batches.flat().sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(25);
      const keys = b.map((i) => canonicalItem({ PK: items[i]?.PK as AttributeValue }));
      expect(new Set(keys).size).toBe(keys.length);
    }
    // Three items with key k1 need three batches; the others fill the first two.
    expect(batches.map((b) => b.length)).toEqual([25, 4, 1]);
  });
});

describe('Class: IfAbsentWriter (partiql mode)', () => {
  const ddb = mockClient(DynamoDBClient);
  const { sleeps, timing } = recordedTiming(4);
  // What a consistent read of the new table finds (DynamoDB Local returns no item with DuplicateItem).
  const stored = new Map<string, Item>();
  const looked: Item[][] = [];
  const writer = () =>
    new IfAbsentWriter(new DynamoDBClient({ region: 'us-east-1' }), 'new', {
      seqAttribute: '_dr_seq',
      mode: 'partiql',
      concurrency: 2,
      transactionSize: 100,
      keyNames: ['PK', 'SK'],
      existing: async (keys) => {
        looked.push([...keys]);
        return new Map(
          keys.flatMap((k) => {
            const found = stored.get(canonicalItem(k));
            return found ? [[canonicalItem(k), found] as const] : [];
          }),
        );
      },
      timing,
    });
  beforeEach(() => {
    ddb.reset();
    sleeps.splice(0);
    stored.clear();
    looked.splice(0);
  });

  it('maps each statement on its own and retries only the throttled ones after a backoff', async () => {
    // Prepare: a: ok; b: exists (a dualread item); c: throttled once; d: invalid; e: server fault once.
    const items = ['a', 'b', 'c', 'd', 'e'].map((k) => item(k));
    stored.set(canonicalItem(item('b')), item('b', { _dr_seq: { S: '7' } }));
    ddb
      .on(BatchExecuteStatementCommand)
      .resolvesOnce({
        Responses: [
          {},
          { Error: { Code: 'DuplicateItem', Message: 'Duplicate primary key exists in table' } },
          { Error: { Code: 'ProvisionedThroughputExceeded', Message: 'slow down' } },
          { Error: { Code: 'ValidationError', Message: 'Item size has exceeded the maximum allowed size' } },
          { Error: { Code: 'InternalServerError', Message: 'oops' } },
        ],
      })
      .resolvesOnce({ Responses: [{}, {}] });

    // Act
    const out = await writer().writeAll(items, 'refuse');

    // Assess
    expect(looked).toEqual([[item('b')]]);
    expect(out).toEqual([
      { kind: 'copied' },
      { kind: 'exists' },
      { kind: 'copied' },
      { kind: 'failed', reason: 'ValidationError: Item size has exceeded the maximum allowed size' },
      { kind: 'copied' },
    ]);
    const calls = ddb.commandCalls(BatchExecuteStatementCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Statements?.map((s) => s.Parameters?.[0])).toEqual([
      { S: 'c' },
      { S: 'e' },
    ]);
    expect(sleeps).toEqual([5]);
  });

  it('fails the page when a statement stays throttled after every attempt', async () => {
    // Prepare
    ddb.on(BatchExecuteStatementCommand).resolves({
      Responses: [{ Error: { Code: 'ThrottlingError', Message: 'slow down' } }],
    });

    // Act
    const run = writer().writeAll([item('a')], 'refuse');

    // Assess
    await expect(run).rejects.toThrow(BatchStatementError);
    expect(ddb.commandCalls(BatchExecuteStatementCommand)).toHaveLength(4);
  });

  it('fails the page on an error that is not about one item (missing table, no permission)', async () => {
    // Prepare
    ddb.on(BatchExecuteStatementCommand).resolves({
      Responses: [{}, { Error: { Code: 'AccessDenied', Message: 'no PartiQLInsert' } }],
    });

    // Act + Assess
    await expect(writer().writeAll([item('a'), item('b')], 'refuse')).rejects.toThrow(
      /AccessDenied: no PartiQLInsert/,
    );
  });

  it('isolates the items with conditional PutItem when the whole request is refused as invalid', async () => {
    // Prepare
    const refused = Object.assign(new Error('Provided list of item keys contains duplicates'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    ddb.on(BatchExecuteStatementCommand).rejects(refused);
    ddb.on(PutItemCommand).resolves({});

    // Act
    const out = await writer().writeAll([item('a'), item('b')], 'overwrite');

    // Assess
    expect(out).toEqual([{ kind: 'copied' }, { kind: 'copied' }]);
    const puts = ddb.commandCalls(PutItemCommand);
    expect(puts.map((c) => c.args[0].input.ConditionExpression)).toEqual([
      'attribute_not_exists(#seq)',
      'attribute_not_exists(#seq)',
    ]);
  });

  it('sends at most 25 statements per request', async () => {
    // Prepare
    ddb.on(BatchExecuteStatementCommand).callsFake((input: { Statements: unknown[] }) => ({
      Responses: input.Statements.map(() => ({})),
    }));

    // Act
    const out = await writer().writeAll(
      Array.from({ length: 60 }, (_, i) => item(`k${i}`)),
      'refuse',
    );

    // Assess
    expect(out.every((o) => o.kind === 'copied')).toBe(true);
    expect(
      ddb.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input.Statements?.length),
    ).toEqual([25, 25, 10]);
  });

  it.each([
    ['refuse', [{ kind: 'foreign' }, { kind: 'exists' }], []],
    ['keep', [{ kind: 'foreign' }, { kind: 'exists' }], []],
    ['overwrite', [{ kind: 'copied' }, { kind: 'exists' }], ['attribute_not_exists(#seq)']],
  ] as const)(
    'tells a foreign item from a dualread one after DuplicateItem, and overwrites it only under %s=overwrite',
    async (policy, expected, puts) => {
      // Prepare: both INSERTs meet an item; f is foreign (no _dr_seq), d is dualread's
      stored.set(canonicalItem(item('f')), item('f', { note: { S: 'foreign' } }));
      stored.set(canonicalItem(item('d')), item('d', { _dr_seq: { S: '0'.repeat(40) } }));
      const duplicate = {
        Error: { Code: 'DuplicateItem' as const, Message: 'Duplicate primary key exists in table' },
      };
      ddb.on(BatchExecuteStatementCommand).resolves({ Responses: [duplicate, duplicate] });
      ddb.on(PutItemCommand).resolves({});

      // Act
      const out = await writer().writeAll([item('f'), item('d')], policy);

      // Assess
      expect(out).toEqual(expected);
      expect(ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input.ConditionExpression)).toEqual(puts);
      expect(
        ddb
          .commandCalls(BatchExecuteStatementCommand)[0]
          ?.args[0].input.Statements?.map((st) => st.ReturnValuesOnConditionCheckFailure),
      ).toEqual(['ALL_OLD', 'ALL_OLD']);
    },
  );
});
