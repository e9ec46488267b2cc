/**
 * The query-surface guardrails of SHADOW → DUAL_READ (issue 16, item 4), table-tested: every legacy
 * index (as DescribeTable gives it) mapped by a surface or declared unused, and every declared
 * surface's own mismatch rate under the threshold over its own minimum of comparisons.
 */
import {
  type Guardrail,
  type MigrationFacts,
  type SurfaceCoverage,
  Phase,
  guardrailsFor,
  indexCoverage,
  surfaceGuardrails,
} from '../../../core/control';
import { DEFAULT_GUARDRAILS } from '../../../core/model';
import { metFacts } from '../../helpers/control-facts';

const coverage = (patch: Partial<SurfaceCoverage> = {}): SurfaceCoverage => ({
  legacyIndexesSource: 'table',
  legacyIndexes: [
    { name: 'users-by-email', kind: 'global' },
    { name: 'users-by-created', kind: 'local' },
  ],
  surfaces: [
    { name: 'base', inferred: true },
    { name: 'by-email', legacyIndex: 'users-by-email', inferred: false },
  ],
  unusedIndexes: [{ name: 'users-by-created', reason: 'reporting job retired' }],
  ...patch,
});

/** Facts entering DUAL_READ with every other guardrail met; by-email compared `match`/`missing` times. */
function facts(c: SurfaceCoverage | undefined, match = 500, missing = 0, lag = 0): MigrationFacts {
  const f = metFacts(Phase.DUAL_READ);
  return {
    ...f,
    ...(c ? { surfaces: c } : {}),
    shadow: {
      ...f.shadow,
      bySurface: {
        'by-email': { byClass: { match, missing, 'index-lag': lag }, served: { legacy: match + missing } },
      },
    },
  };
}

const byId = (gs: Guardrail[]) => Object.fromEntries(gs.map((g) => [g.id, [g.met, g.reason]]));

describe('Function: surfaceGuardrails', () => {
  it.each<[string, MigrationFacts, Record<string, [boolean, RegExp]>]>([
    [
      'every index mapped or declared unused, the surface under the threshold',
      facts(coverage(), 1000, 1, 7),
      {
        'legacy-indexes-covered': [
          true,
          /^2 legacy index\(es\): 1 mapped by a query surface, 1 declared unused$/,
        ],
        'surface-shadow:by-email': [
          true,
          /"by-email": 0\.100 % mismatches over 1001 page comparisons .*\(7 lag-explained excluded\)/,
        ],
      },
    ],
    [
      'an LSI neither mapped nor declared unused',
      facts(coverage({ unusedIndexes: [] })),
      {
        'legacy-indexes-covered': [
          false,
          /^legacy index "users-by-created" \(LSI\) is not mapped by any query surface: map it in `queries` or declare it in `legacyTable.unusedIndexes` with a reason$/,
        ],
        'surface-shadow:by-email': [true, /0\.000 % mismatches over 500/],
      },
    ],
    [
      'a GSI on the table that the definition never heard of',
      facts(
        coverage({
          legacyIndexes: [...(coverage().legacyIndexes ?? []), { name: 'by-phone', kind: 'global' }],
        }),
      ),
      { 'legacy-indexes-covered': [false, /legacy index "by-phone" \(GSI\) is not mapped/] },
    ],
    [
      'a surface reading an index the table does not have',
      facts(coverage({ legacyIndexes: [{ name: 'users-by-created', kind: 'local' }] })),
      {
        'legacy-indexes-covered': [
          false,
          /query surface "by-email" reads legacy index "users-by-email", which the legacy table does not have/,
        ],
      },
    ],
    [
      'indexes that could not be described',
      facts(coverage({ legacyIndexes: undefined, legacyIndexesError: 'AccessDeniedException' })),
      {
        'legacy-indexes-covered': [
          false,
          /could not be read \(AccessDeniedException\): check DescribeTable access/,
        ],
      },
    ],
    [
      'indexes from the definition (no table described)',
      facts(coverage({ legacyIndexesSource: 'definition' })),
      { 'legacy-indexes-covered': [true, /\(declared indexes; the table was not described\)/] },
    ],
    [
      'a surface with too few comparisons of its own',
      facts(coverage(), 60, 0, 500),
      {
        'surface-shadow:by-email': [
          false,
          /"by-email": 60 shadow comparisons of its pages .*, 100 needed: send its queries through the API/,
        ],
      },
    ],
    [
      'a surface over the threshold while the overall rate is fine',
      facts(coverage(), 990, 10),
      {
        'surface-shadow:by-email': [
          false,
          /1\.000 % mismatches \(10\/1000\) .* over 0\.100 %: check its partition, sort and filter/,
        ],
      },
    ],
    [
      'a declared surface nobody queried',
      { ...facts(coverage()), shadow: metFacts(Phase.DUAL_READ).shadow },
      { 'surface-shadow:by-email': [false, /"by-email": 0 shadow comparisons/] },
    ],
  ])('%s', (_name, f, expected) => {
    // Act
    const got = byId(surfaceGuardrails(f, DEFAULT_GUARDRAILS));

    // Assess
    for (const [id, [met, reason]] of Object.entries(expected)) {
      expect([id, got[id]?.[0]]).toEqual([id, met]);
      expect(got[id]?.[1]).toMatch(reason);
    }
    expect(Object.keys(got).filter((k) => k.startsWith('surface-shadow:'))).toEqual([
      'surface-shadow:by-email',
    ]);
  });

  it('is evaluated entering DUAL_READ only, and not at all without coverage in the facts', () => {
    const blocked = facts(coverage({ unusedIndexes: [] }));
    expect(guardrailsFor(Phase.DUAL_READ, blocked, DEFAULT_GUARDRAILS).map((g) => g.id)).toEqual([
      'verification-clean',
      'shadow-mismatch-rate',
      'legacy-indexes-covered',
      'surface-shadow:by-email',
      'dead-letters-empty',
    ]);
    expect(
      guardrailsFor(
        Phase.NEW_PRIMARY,
        { ...blocked, state: { ...blocked.state, phase: Phase.DUAL_READ } },
        DEFAULT_GUARDRAILS,
      ).map((g) => g.id),
    ).not.toContain('legacy-indexes-covered');
    expect(surfaceGuardrails(facts(undefined), DEFAULT_GUARDRAILS)).toEqual([]);
  });
});

describe('Function: indexCoverage', () => {
  it('says what covers each legacy index, in the table order', () => {
    expect(
      indexCoverage(
        coverage({
          legacyIndexes: [...(coverage().legacyIndexes ?? []), { name: 'by-phone', kind: 'global' }],
        }),
      ),
    ).toEqual([
      { index: 'users-by-email', kind: 'global', status: 'mapped', surfaces: ['by-email'] },
      {
        index: 'users-by-created',
        kind: 'local',
        status: 'unused',
        surfaces: [],
        reason: 'reporting job retired',
      },
      { index: 'by-phone', kind: 'global', status: 'unmapped', surfaces: [] },
    ]);
  });
});
