/**
 * The dependency rule of docs/architecture.md ("Map") is an ESLint rule (eslint.config.mjs); these cases
 * lint planted imports as if they stood in each folder and expect the rule to refuse them, so the rule
 * cannot silently stop applying (a renamed folder, a config block that overrides it).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

function lint(filePath: string, source: string): string {
  const out = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--stdin', '--stdin-filename', filePath],
    { cwd: ROOT, input: source, encoding: 'utf8' },
  );
  return `${out.stdout}${out.stderr}`;
}

describe('Lint rule: import boundaries', () => {
  it.each([
    [
      'core/model/planted.ts',
      "import { x } from '../../adapters/control-store';",
      'core/ imports nothing outside core/',
    ],
    [
      'core/read/planted.ts',
      "import { x } from '../../local/stream-poller';",
      'core/ imports nothing outside core/',
    ],
    ['core/cdc/planted.ts', "import { x } from '@aws-sdk/client-dynamodb';", 'core/ is pure logic'],
    ['adapters/planted.ts', "import { x } from '../lambdas/sync/handler';", 'adapters/ import core/ only'],
    [
      'lambdas/sync/planted.ts',
      "import { x } from '../../local/local-cdc';",
      'lambdas/ import core/ and adapters/ only',
    ],
    [
      'lib/planted.ts',
      "import { x } from '../bench/harness';",
      'nothing deployed imports local/, bench/ or test/',
    ],
    [
      'examples/planted.ts',
      "import { x } from '../local/workload';",
      'nothing deployed imports local/, bench/ or test/',
    ],
  ])('refuses a planted import in %s', (file, source, message) => {
    expect(lint(file, `${source}\nexport const y = x;\n`)).toContain(message);
  });

  it.each([
    ['core/read/planted.ts', "import { x } from '../model';"],
    ['adapters/planted.ts', "import { x } from '../core/model';"],
    ['lambdas/sync/planted.ts', "import { x } from '../../adapters/control-store';"],
    ['local/planted.ts', "import { x } from '../lambdas/sync/handler';"],
  ])('allows the import the rule permits in %s', (file, source) => {
    expect(lint(file, `${source}\nexport const y = x;\n`)).not.toContain('no-restricted-imports');
  });
});
