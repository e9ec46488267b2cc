/**
 * The read API's input edges (issue 9, items 13 and 18), on the real handler over in-memory stores:
 * every malformed input is a 400 that says what is wrong with the request.
 */
import { Phase } from '../../core/control';
import { READ_AFTER_FUTURE_SLACK_MS } from '../../core/routing';
import { usersMigration } from '../../examples/users/migration';
import { read, setup } from '../helpers/memory-read';

const T = Date.UTC(2026, 11, 4, 12, 0, 0);
const SKEW = usersMigration.read.clockSkewMs;
const message = (r: { body: string }): string => (JSON.parse(r.body) as { message: string }).message;

describe('Function: makeReadHandler (X-Read-After range)', () => {
  it.each([
    [
      'epoch seconds',
      String(Math.floor(T / 1000)),
      /before 2000-01-01.*epoch seconds.*send epoch milliseconds/,
    ],
    ['a date before 2000', '1999-12-31T23:59:59Z', /before 2000-01-01/],
    [
      'milliseconds far in the future',
      String(T + 86_400_000),
      /86400000 ms after this server's clock.*epoch milliseconds/,
    ],
    [
      'an ISO date-time far in the future',
      new Date(T + 3_600_000).toISOString(),
      /after this server's clock/,
    ],
  ])('answers 400 to %s, saying what is wrong and the expected unit', async (_name, value, expected) => {
    // Prepare
    const s = setup(Phase.NEW_PRIMARY, { startMs: T });

    // Act
    const r = await read(s.handler, 'u-1', { 'X-Read-After': value });

    // Assess
    expect(r.statusCode).toBe(400);
    expect(message(r)).toMatch(/^X-Read-After "/);
    expect(message(r)).toMatch(expected);
  });

  it.each([
    ['a recent write', String(T - 5_000)],
    ['a write at the edge of the clock-skew margin', String(T + SKEW + READ_AFTER_FUTURE_SLACK_MS)],
    ['an ISO date-time', new Date(T - 5_000).toISOString()],
    ['the first millisecond of 2000', '946684800000'],
  ])('accepts %s', async (_name, value) => {
    const s = setup(Phase.NEW_PRIMARY, { startMs: T });
    const r = await read(s.handler, 'u-1', { 'X-Read-After': value });
    expect(r.statusCode).toBe(200);
  });
});
