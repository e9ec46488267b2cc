/**
 * `dualread surfaces`: the legacy table's secondary indexes as DynamoDB describes them (the local
 * table with `--endpoint`) and what covers each — the query surface that maps it, `unused` with the
 * definition's reason, or UNMAPPED — then each query surface with its legacy and new paths, the pages
 * it served from each store and its shadow comparisons and mismatch rate over the guardrail window
 * (the control table's `SHADOW#` counters).
 *
 * Exit code: 0 when every legacy index is covered; 2 (`GUARDRAIL_UNMET`, as `advance` would refuse
 * SHADOW → DUAL_READ for it) when an index is UNMAPPED, the indexes could not be described, or a
 * surface reads an index the table does not have — so a pipeline can run it as a check. Mismatch rates
 * do not change the exit code (`dualread status` shows the guardrails they feed).
 */
import Table from 'cli-table3';
import type { Command } from 'commander';
import {
  type IndexCoverage,
  type MigrationFacts,
  type SurfaceFacts,
  indexCoverage,
  surfaceFacts,
  surfacesOfMissingIndexes,
} from '../../core/control';
import type { Migration, SurfacePath } from '../../core/model';
import type { CliContext } from '../context';
import { ExitCode } from '../exit-codes';
import type { Output } from '../output';

/** The JSON document of `dualread surfaces --json`. */
export interface SurfacesReport {
  readonly migrationId: string;
  readonly legacyTable: string;
  /** `table`: DescribeTable; `definition`: the definition's `legacyTable.indexes` (no table described). */
  readonly indexesFrom: 'table' | 'definition';
  /** Why the legacy indexes could not be read; `indexes` is then empty. */
  readonly indexesError?: string;
  readonly indexes: readonly IndexCoverage[];
  /** Surfaces reading an index the legacy table does not have. */
  readonly missingIndexes: ReadonlyArray<{ surface: string; index: string }>;
  readonly surfaces: ReadonlyArray<
    SurfaceFacts & { legacyPath: string; newPath: string; inferred: boolean; orderPreserved: boolean }
  >;
  /** Start of the window the counts cover (epoch ms). */
  readonly since: number;
  /** True when every legacy index is covered (the exit code is 0). */
  readonly covered: boolean;
}

const path = (p: SurfacePath): string => p.index ?? 'table';

/** The report from one facts snapshot and the definition. */
export function surfacesReport(migration: Migration, facts: MigrationFacts): SurfacesReport {
  const c = facts.surfaces ?? {
    legacyIndexesSource: 'definition' as const,
    legacyIndexesError: 'the facts carry no index coverage',
    surfaces: [],
    unusedIndexes: [],
  };
  const indexes = indexCoverage(c);
  const missingIndexes = surfacesOfMissingIndexes(c);
  const names = Object.keys(migration.queries);
  const surfaces = surfaceFacts(facts.shadow, names).map((f) => {
    const q = migration.queries[f.surface];
    return {
      ...f,
      legacyPath: q ? path(q.legacy) : '?',
      newPath: q ? path(q.fresh) : '?',
      inferred: q?.inferred ?? false,
      orderPreserved: q?.orderPreserved ?? false,
    };
  });
  return {
    migrationId: migration.id,
    legacyTable: migration.legacyTable.tableName,
    indexesFrom: c.legacyIndexesSource,
    ...(c.legacyIndexesError !== undefined ? { indexesError: c.legacyIndexesError } : {}),
    indexes,
    missingIndexes,
    surfaces,
    since: facts.shadow.since,
    covered:
      c.legacyIndexes !== undefined &&
      missingIndexes.length === 0 &&
      indexes.every((i) => i.status !== 'unmapped'),
  };
}

const pct = (r: number | undefined): string => (r === undefined ? '—' : `${(r * 100).toFixed(3)} %`);

/** The report as text: the indexes and what covers them, then the surfaces and their counts. */
export function surfacesText(r: SurfacesReport, out: Output): string {
  const { c } = out;
  const style = { head: [], border: [] };
  const lines = [
    `${c.bold(`legacy table ${r.legacyTable}`)} (migration ${r.migrationId}; indexes from ${
      r.indexesFrom === 'table' ? 'DescribeTable' : 'the definition, the table was not described'
    })`,
  ];
  if (r.indexesError !== undefined)
    lines.push(c.red(`the legacy indexes could not be read: ${r.indexesError}`));
  else if (r.indexes.length === 0) lines.push('no secondary index');
  else {
    const t = new Table({ head: ['index', 'kind', 'covered by'], style });
    for (const i of r.indexes)
      t.push([
        i.index,
        i.kind === 'local' ? 'LSI' : 'GSI',
        i.status === 'mapped'
          ? c.green(`surface ${i.surfaces.join(', ')}`)
          : i.status === 'unused'
            ? `unused: ${i.reason ?? ''}`
            : c.red(c.bold('UNMAPPED: map it in `queries` or declare it in `legacyTable.unusedIndexes`')),
      ]);
    lines.push(t.toString());
  }
  for (const m of r.missingIndexes)
    lines.push(
      c.red(`surface ${m.surface} reads legacy index "${m.index}", which the legacy table does not have`),
    );
  const t = new Table({
    head: ['surface', 'legacy → new', 'served legacy', 'served new', 'compared', 'mismatches', 'rate'],
    style,
  });
  for (const s of r.surfaces)
    t.push([
      s.inferred ? `${s.surface} (inferred)` : s.surface,
      `${s.legacyPath} → ${s.newPath}`,
      s.servedLegacy,
      s.servedNew,
      s.compared,
      s.mismatches,
      pct(s.mismatchRate),
    ]);
  lines.push(t.toString(), c.dim(`counts since ${new Date(r.since).toISOString()} (the guardrail window)`));
  return lines.join('\n');
}

export function register(program: Command, context: CliContext): void {
  program
    .command('surfaces')
    .description(
      'the legacy indexes and the query surface covering each (exit 2 if one is unmapped), with reads and mismatch rates per surface',
    )
    .action(
      context.action(async (cmd: Command) => {
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const { facts } = await target.plane.status();
        const report = surfacesReport(target.migration, facts);
        out.result(report, () => surfacesText(report, out));
        return report.covered ? ExitCode.OK : ExitCode.GUARDRAIL_UNMET;
      }),
    );
}
