import {
  type CutoverFacts,
  type CutoverProgress,
  CutoverStep,
  type FenceWatch,
  InvalidControlRequestError,
  type MigrationFacts,
  Phase,
  cutoverPreconditions,
  decideCutover,
  parseDuration,
} from '../../../core/control';
import { DEFAULT_GUARDRAILS } from '../../../core/model';
import { NOW, metFacts } from '../../helpers/control-facts';

const T = NOW - 120_000;
const WINDOW = 30_000;
const quiet: FenceWatch = { writes: [], readToTipAt: NOW };
const late: FenceWatch = {
  writes: [{ key: '{"id":{"S":"u-1"}}', at: T + 5_000, eventName: 'MODIFY' }],
  readToTipAt: NOW,
};

/** Facts with every FINALIZED precondition met, CDC still enabled (the cutover's starting point). */
function facts(patch: Partial<MigrationFacts> = {}, rest: Partial<CutoverFacts> = {}): CutoverFacts {
  return {
    migration: metFacts(Phase.FINALIZED, { cdcEnabled: true, ...patch }),
    watch: quiet,
    verification: { runId: 'cut-1', status: 'COMPLETE', startedAt: T + 60_000, clean: true },
    ...rest,
  };
}

function at(step: CutoverStep, patch: Partial<CutoverProgress> = {}): CutoverProgress {
  return {
    migrationId: 'users',
    step,
    fenceAt: T,
    quietWindowMs: WINDOW,
    actor: 'alice@host',
    startedAt: T,
    updatedAt: T,
    verificationRunId: 'cut-1',
    ...patch,
  };
}

const noApproval = (): Partial<MigrationFacts> => {
  const base = metFacts(Phase.FINALIZED);
  return { state: { ...base.state, approvals: [] } };
};

const withPhase = (phase: Phase): Partial<MigrationFacts> => {
  const base = metFacts(Phase.FINALIZED);
  return { state: { ...base.state, phase } };
};

describe('Function: decideCutover', () => {
  // step × fact → action kind (and a fragment of its reason)
  const table: Array<[string, CutoverProgress | undefined, CutoverFacts, boolean, string, RegExp?]> = [
    ['before NEW_PRIMARY', undefined, facts(withPhase(Phase.DUAL_READ)), true, 'refuse', /in DUAL_READ/],
    ['approval missing', undefined, facts(noApproval()), true, 'refuse', /approval/],
    [
      'verification not clean',
      undefined,
      facts({ verifications: [{ runId: 'v9', status: 'COMPLETE', startedAt: NOW - 1000, clean: false }] }),
      true,
      'refuse',
      /verification-clean|clean-verifications/,
    ],
    ['dead letters', undefined, facts({ deadLetters: 2 }), true, 'refuse', /dead-letters-empty/],
    ['met, no --fence-now', undefined, facts(), false, 'refuse', /--fence-now/],
    ['met, --fence-now', undefined, facts(), true, 'fence'],
    ['aborted earlier, --fence-now', at(CutoverStep.ABORTED), facts(), true, 'fence'],
    [
      'FENCED, window not over',
      at(CutoverStep.FENCED),
      facts({}, { watch: { writes: [], readToTipAt: T + 10_000 } }),
      false,
      'wait',
      /quiet until/,
    ],
    [
      'FENCED, quiet, F behind T',
      at(CutoverStep.FENCED),
      facts({
        frontier: { migrationId: 'users', frontier: T + 500, computedAt: NOW, shards: [], version: 1 },
      }),
      false,
      'wait',
      /F − skew/,
    ],
    ['FENCED, quiet, F − skew > T', at(CutoverStep.FENCED), facts(), false, 'mark-quiet'],
    ['FENCED, write after fence', at(CutoverStep.FENCED), facts({}, { watch: late }), false, 'abort', /u-1/],
    ['QUIET', at(CutoverStep.QUIET), facts(), false, 'start-verification'],
    ['QUIET, write after fence', at(CutoverStep.QUIET), facts({}, { watch: late }), false, 'abort', /u-1/],
    [
      'VERIFYING, running',
      at(CutoverStep.VERIFYING),
      facts({}, { verification: { runId: 'cut-1', status: 'RUNNING', startedAt: T + 1, clean: false } }),
      false,
      'wait',
      /cut-1/,
    ],
    [
      'VERIFYING, not started yet',
      at(CutoverStep.VERIFYING),
      facts({}, { verification: undefined }),
      false,
      'wait',
    ],
    ['VERIFYING, clean', at(CutoverStep.VERIFYING), facts(), false, 'disable-cdc'],
    [
      'VERIFYING, drift',
      at(CutoverStep.VERIFYING),
      facts({}, { verification: { runId: 'cut-1', status: 'COMPLETE', startedAt: T + 1, clean: false } }),
      false,
      'abort',
      /not clean/,
    ],
    [
      'VERIFYING, failed',
      at(CutoverStep.VERIFYING),
      facts({}, { verification: { runId: 'cut-1', status: 'FAILED', startedAt: T + 1, clean: false } }),
      false,
      'abort',
      /FAILED/,
    ],
    [
      'VERIFYING, started before T',
      at(CutoverStep.VERIFYING),
      facts({}, { verification: { runId: 'cut-1', status: 'COMPLETE', startedAt: T, clean: true } }),
      false,
      'abort',
      /not after the fence/,
    ],
    [
      'CDC_DISABLED, still enabled',
      at(CutoverStep.CDC_DISABLED),
      facts({ cdcEnabled: true }),
      false,
      'wait',
      /enabled/,
    ],
    [
      'CDC_DISABLED, unknown',
      at(CutoverStep.CDC_DISABLED),
      facts({ cdcEnabled: undefined }),
      false,
      'wait',
      /unknown/,
    ],
    [
      'CDC_DISABLED, off',
      at(CutoverStep.CDC_DISABLED),
      facts({ cdcEnabled: false }),
      false,
      'finalize',
      /fenced at .*T=/,
    ],
    [
      'CDC_DISABLED, write after fence',
      at(CutoverStep.CDC_DISABLED),
      facts({ cdcEnabled: false }, { watch: late }),
      false,
      'abort',
      /u-1/,
    ],
    [
      'in progress, alarm rolled back',
      at(CutoverStep.QUIET),
      facts(withPhase(Phase.SHADOW)),
      false,
      'abort',
      /left NEW_PRIMARY/,
    ],
    ['FINALIZED', at(CutoverStep.FINALIZED), facts(withPhase(Phase.FINALIZED)), false, 'done'],
  ];

  type Row = [string, CutoverProgress | undefined, CutoverFacts, boolean, string, RegExp];
  const rows = table.map(([n, p, f, fence, kind, reason]): Row => [n, p, f, fence, kind, reason ?? /.*/]);
  it.each(rows)('%s', (_name, progress, f, fenceNow, kind, reason) => {
    const action = decideCutover(progress, f, DEFAULT_GUARDRAILS, { fenceNow });
    expect(action.kind).toBe(kind);
    expect('reason' in action ? action.reason : '').toMatch(reason);
  });

  it('an abort names every key written after the fence once, and re-enables CDC only if it was disabled', () => {
    const watch: FenceWatch = {
      writes: [
        { key: 'k1', at: T + 1, eventName: 'INSERT' },
        { key: 'k2', at: T + 2, eventName: 'MODIFY' },
        { key: 'k1', at: T + 3, eventName: 'REMOVE' },
      ],
      readToTipAt: NOW,
    };
    const fenced = decideCutover(at(CutoverStep.FENCED), facts({}, { watch }), DEFAULT_GUARDRAILS);
    const disabled = decideCutover(
      at(CutoverStep.CDC_DISABLED),
      facts({ cdcEnabled: false }, { watch }),
      DEFAULT_GUARDRAILS,
    );
    expect(fenced).toMatchObject({ kind: 'abort', keys: ['k1', 'k2'], reenableCdc: false });
    expect(disabled).toMatchObject({ kind: 'abort', keys: ['k1', 'k2'], reenableCdc: true });
  });

  it('the preconditions are FINALIZED guardrails without cdc-disabled', () => {
    const ids = cutoverPreconditions(facts().migration, DEFAULT_GUARDRAILS).map((g) => g.id);
    expect(ids).not.toContain('cdc-disabled');
    expect(ids).toContain('soak');
  });
});

describe('Function: parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['5', 5_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('names a bad duration and how to write one', () => {
    expect(() => parseDuration('soon', '--timeout')).toThrow(InvalidControlRequestError);
    expect(() => parseDuration('soon', '--timeout')).toThrow(/--timeout "soon".*30s/);
  });
});
