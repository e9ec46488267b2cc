/**
 * Which tables a DynamoDB call touches, as the fault layer sees them: the role of a call (legacy, new,
 * control) comes from its tables, so a call whose tables are missed is never faulted.
 */
import { tablesOf } from '../../../local/faults/middleware';

describe('tablesOf', () => {
  it('reads TableName, RequestItems and TransactItems', () => {
    expect(tablesOf({ TableName: 'new' })).toEqual(['new']);
    expect(tablesOf({ RequestItems: { a: [], b: [] } })).toEqual(['a', 'b']);
    expect(
      tablesOf({ TransactItems: [{ Put: { TableName: 'new' } }, { Update: { TableName: 'control' } }] }),
    ).toEqual(['new', 'control']);
  });

  it("reads the tables of PartiQL statements (the backfill's and CDC's batched inserts)", () => {
    expect(
      tablesOf({
        Statements: [
          { Statement: `INSERT INTO "users-v2" VALUE {'PK': ?}` },
          { Statement: `INSERT INTO "users-v2" VALUE {'PK': ?, 'x': ?}` },
        ],
      }),
    ).toEqual(['users-v2']);
    expect(tablesOf({ Statement: 'SELECT * FROM legacy_users WHERE id = ?' })).toEqual(['legacy_users']);
    expect(tablesOf({ Statement: 'update "a""b" SET x = 1' })).toEqual(['a"b']);
    expect(
      tablesOf({ TransactStatements: [{ Statement: 'DELETE FROM "t1" WHERE k = ?' }, { Statement: 'x' }] }),
    ).toEqual(['t1']);
  });

  it('finds no table in what names none', () => {
    expect(tablesOf(undefined)).toEqual([]);
    expect(tablesOf({ Statements: [{}, { Statement: 42 }] })).toEqual([]);
    expect(tablesOf({ StreamArn: 'arn' })).toEqual([]);
  });
});
