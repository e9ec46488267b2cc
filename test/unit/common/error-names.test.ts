/**
 * An error's `name` is its class's name (`NamedError`, core/common/errors.ts): Step Functions Retry/Catch
 * match it, the CLI maps it to an exit code, logs print it. The Lambda bundles are minified, which
 * renames classes, so they are built with `keepNames` (`BUNDLE_MINIFY`, lib/nodejs-function.ts).
 */
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { buildSync } from 'esbuild';
import { TooManyPinsError } from '../../../core/backfill';
import { DualReadError, MigrationDefinitionError, NamedError } from '../../../core/common';
import { LostAttributeError } from '../../../core/model';
import { VerifyInputError } from '../../../core/verify';
import { RunFailedError } from '../../../cli/errors';
import { ConstructPropsError } from '../../../lib/errors';
import { BUNDLE_MINIFY } from '../../../lib/nodejs-function';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * An entry that throws `DualReadError`s (the base, and classes one and two levels below it) and returns
 * their names.
 */
const ENTRY = `
import { BackfillAlreadyRunningError, BackfillInputError } from './core/backfill/errors';
import { DualReadError, MigrationDefinitionError } from './core/common/errors';
import { VerifyAlreadyRunningError } from './core/verify/errors';
function nameOf(make: () => never): string {
  try {
    return make();
  } catch (err) {
    return (err as Error).name;
  }
}
export const names = [
  nameOf(() => { throw new DualReadError('base'); }),
  nameOf(() => { throw new MigrationDefinitionError('users', 'bad'); }),
  nameOf(() => { throw new BackfillInputError('bad input'); }),
  nameOf(() => { throw new BackfillAlreadyRunningError('users', 'run-1', 0); }),
  nameOf(() => { throw new VerifyAlreadyRunningError('users', 'run-1', 0); }),
];
`;
const EXPECTED = [
  'DualReadError',
  'MigrationDefinitionError',
  'BackfillInputError',
  'BackfillAlreadyRunningError',
  'VerifyAlreadyRunningError',
];

/**
 * The names the entry's errors have once bundled (CJS, Node, as the Lambdas are) with `minify`; the
 * bundle is run in memory, as Node runs a CommonJS module, so no file is left behind.
 */
function bundledNames(minify: { readonly minify: boolean; readonly keepNames: boolean }): string[] {
  const { outputFiles } = buildSync({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    logLevel: 'silent',
    ...minify,
  });
  const module = { exports: {} as { names?: string[] } };
  const run = runInThisContext(`(function (module, exports, require) {${outputFiles[0]?.text ?? ''}\n})`) as (
    m: typeof module,
    e: typeof module.exports,
    r: NodeRequire,
  ) => void;
  run(module, module.exports, require);
  return module.exports.names ?? [];
}

describe('Error names', () => {
  it.each([
    ['NamedError', new NamedError('x'), 'NamedError'],
    ['DualReadError', new DualReadError('x'), 'DualReadError'],
    ['a core error', new MigrationDefinitionError('users', 'bad'), 'MigrationDefinitionError'],
    ['a subclass of a subclass', new TooManyPinsError('users', 1000, 1), 'TooManyPinsError'],
    ['a verification error', new VerifyInputError('bad'), 'VerifyInputError'],
    [
      'a NamedError outside DualReadError',
      new LostAttributeError('user.__proto__', 'lost'),
      'LostAttributeError',
    ],
    ['a CLI error', new RunFailedError('backfill', 'CdcNotConsumingError', 'no CDC'), 'RunFailedError'],
    ['a CDK-side error', new ConstructPropsError('DualReadFunction', 'users', 'bad'), 'ConstructPropsError'],
  ])('%s is named after its class', (_what, err, name) => {
    expect(err.name).toBe(name);
    expect(String(err).startsWith(`${name}: `)).toBe(true);
  });

  it('keeps the class names in a bundle minified as the Lambda bundles are (BUNDLE_MINIFY)', () => {
    expect(BUNDLE_MINIFY.minify).toBe(true);
    expect(bundledNames(BUNDLE_MINIFY)).toEqual(EXPECTED);
  });

  it('loses them when minified without keepNames (why BUNDLE_MINIFY keeps them)', () => {
    const names = bundledNames({ ...BUNDLE_MINIFY, keepNames: false });
    for (const [i, name] of EXPECTED.entries()) expect(names[i]).not.toBe(name);
  });
});
