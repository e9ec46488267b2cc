import {
  BackfillStatus,
  type MigrationState,
  isContinuation,
  needsForeignCheck,
  resolveRun,
  startedBackfill,
} from '../../../core';

const defaults = { totalSegments: 4, maxIterationsPerRound: 1_000, maxRoundsPerExecution: 500 };

describe('Function: resolveRun', () => {
  it('takes the execution name, the migration and the settings for what the input leaves out', () => {
    expect(resolveRun({}, 'exec-1', defaults)).toEqual({
      runId: 'exec-1',
      totalSegments: 4,
      maxConcurrency: 4,
      maxIterationsPerRound: 1_000,
      maxRoundsPerExecution: 500,
      actor: 'backfill:exec-1',
    });
  });

  it('keeps what the input gives', () => {
    // Act
    const run = resolveRun(
      { runId: 'r', totalSegments: 8, maxConcurrency: 2, maxIterationsPerRound: 3, actor: 'alice' },
      'exec',
      defaults,
    );

    // Assess
    expect(run).toMatchObject({ runId: 'r', totalSegments: 8, maxConcurrency: 2, maxIterationsPerRound: 3 });
    expect(run.actor).toBe('alice');
  });

  it.each<[string, object, RegExp]>([
    ['a run id with a space', { runId: 'a b' }, /runId must be 1-80 letters, digits or _.:- characters/],
    ['too many segments', { totalSegments: 10_001 }, /totalSegments must be an integer from 1 to 10000/],
    [
      'a fractional concurrency',
      { maxConcurrency: 1.5 },
      /maxConcurrency must be an integer from 1 to 10000/,
    ],
    ['too many iterations per round', { maxIterationsPerRound: 1_201 }, /from 1 to 1200, not 1201/],
    ['zero rounds per execution', { maxRoundsPerExecution: 0 }, /maxRoundsPerExecution must be .* to 1500/],
  ])('refuses %s with BackfillInputError', (_case, input, message) => {
    expect(() => resolveRun(input, 'exec', defaults)).toThrow(
      expect.objectContaining({ name: 'BackfillInputError', message: expect.stringMatching(message) }),
    );
  });
});

describe('Function: needsForeignCheck', () => {
  it.each([
    ['refuse', 0, false, true],
    ['refuse', 2, false, false],
    ['refuse', 0, true, false],
    ['keep', 0, false, false],
    ['overwrite', 0, false, false],
  ] as const)(
    'foreignItems %s, %d checkpoints, continuation %p → %p',
    (policy, checkpoints, cont, expected) => {
      expect(needsForeignCheck(policy, checkpoints, cont)).toBe(expected);
    },
  );
});

describe('Function: startedBackfill', () => {
  const running: MigrationState['backfill'] = { status: BackfillStatus.RUNNING, runId: 'r', startedAt: 5 };

  it('changes nothing for the continuation of the running run', () => {
    expect(
      startedBackfill(running, { runId: 'r', foreignItems: 'refuse', continuation: true }, 9),
    ).toBeUndefined();
  });

  it('records a resume as RUNNING under the run, keeping the first start time', () => {
    // Act
    const failed = { ...running, status: BackfillStatus.FAILED };
    const next = startedBackfill(failed, { runId: 'r', foreignItems: 'keep', continuation: true }, 9);

    // Assess
    expect(next).toEqual({ status: BackfillStatus.RUNNING, runId: 'r', startedAt: 5, foreignItems: 'keep' });
  });

  it('records a first start at now', () => {
    expect(
      startedBackfill(
        { status: BackfillStatus.NOT_STARTED },
        { runId: 'n', foreignItems: 'refuse', continuation: false },
        9,
      ),
    ).toEqual({ status: BackfillStatus.RUNNING, runId: 'n', startedAt: 9, foreignItems: 'refuse' });
  });
});

describe('Function: isContinuation', () => {
  it('is true only for an execution started by another one', () => {
    expect(isContinuation({ AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: 'arn:parent' })).toBe(true);
    expect(isContinuation({ runId: 'r' })).toBe(false);
  });
});
