/**
 * The local state machine runner validates a definition the first time the process meets it (the
 * validation costs 100-300 ms of CPU per execution start) and never skips it for one that failed.
 */
import type { AslMachine } from '../../../stepfunctions/asl';
import { startLocalExecution } from '../../../local/state-machine-runner';

const passing = (result: string): AslMachine =>
  ({
    StartAt: 'Only',
    States: { Only: { Type: 'Pass', Result: { result }, End: true } },
  }) as unknown as AslMachine;

describe('Function: startLocalExecution', () => {
  it('runs a valid definition at every start', async () => {
    // Act
    const first = await startLocalExecution(passing('a'), {}, { lambdas: {} }).result;
    const second = await startLocalExecution(passing('a'), {}, { lambdas: {} }).result;

    // Assess
    expect([first, second]).toEqual([{ result: 'a' }, { result: 'a' }]);
  });

  it('refuses an invalid definition at every start, not only the first', () => {
    // Prepare: StartAt names no state (a fresh object each time: the validator may annotate the one it saw)
    const invalid = () => ({ ...passing('b'), StartAt: 'Missing' }) as AslMachine;

    // Act / Assess
    for (let i = 0; i < 2; i++)
      expect(() => startLocalExecution(invalid(), {}, { lambdas: {} })).toThrow(/definition is invalid/);
  });
});
