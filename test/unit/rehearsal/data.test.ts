/**
 * `--data`: DynamoDB JSON lines as DynamoDB's export to S3 writes them are read with full fidelity, and
 * every bad line stops the rehearsal with a `RehearsalDataError` naming the line and what to fix.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usersMigration } from '../../../examples/users/migration';
import { RehearsalDataError, loadDynamoJsonLines } from '../../../local/rehearsal/setup';

describe('Unit: rehearsal --data (DynamoDB JSON lines)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dualread-data-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, lines: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, lines.join('\n'));
    return path;
  };

  it('reads export lines with exact values (a 38-digit number, binary, a set, NULL)', () => {
    const path = file('ok.json', [
      '{"Item":{"userId":{"S":"u-1"},"big":{"N":"12345678901234567890123456789012345678"},"b":{"B":"AP8="}}}',
      '',
      '{"Item":{"userId":{"S":"u-2"},"tags":{"SS":["a","b"]},"nothing":{"NULL":true}}}',
    ]);
    const items = loadDynamoJsonLines(path, usersMigration);
    expect(items).toHaveLength(2);
    expect(items[0]?.big).toEqual({ N: '12345678901234567890123456789012345678' });
    expect(items[0]?.b).toEqual({ B: new Uint8Array([0, 255]) });
    expect(items[1]?.nothing).toEqual({ NULL: true });
  });

  it.each([
    ['not JSON', ['{"Item":'], /ok-1.json:1: not JSON/],
    ['a bad value', ['{"Item":{"userId":{"S":"u-1"},"n":{"N":"abc"}}}'], /:1: .*n/],
    ['no legacy key', ['{"Item":{"name":{"S":"x"}}}'], /:1: the item lacks the legacy key \(userId: S\)/],
    [
      'a repeated key',
      ['{"Item":{"userId":{"S":"u-1"}}}', '{"Item":{"userId":{"S":"u-1"}}}'],
      /:2: key .* repeats line 1/,
    ],
    ['no item at all', [''], /holds no item/],
  ])('refuses %s with RehearsalDataError naming the line', (_what, lines, message) => {
    const path = file('ok-1.json', lines);
    expect(() => loadDynamoJsonLines(path, usersMigration)).toThrow(RehearsalDataError);
    expect(() => loadDynamoJsonLines(path, usersMigration)).toThrow(message);
  });
});
