import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { EXAMPLE_DEFINITIONS_FILE, appSettingsFromContext } from '../../lib';

const ROOT = join(__dirname, '..', '..');

describe('Function: appSettingsFromContext', () => {
  it('defaults to env dev, the example definitions and creating the example legacy tables', () => {
    // Act
    const settings = appSettingsFromContext(new App());

    // Assess
    expect(settings).toEqual({
      envName: 'dev',
      stackId: 'DualRead-dev',
      definitionsFile: EXAMPLE_DEFINITIONS_FILE,
      createLegacyTablesForExample: true,
      apiGatewayCloudWatchRole: false,
    });
  });

  it('resolves a definitions file against the working directory and imports its legacy tables by default', () => {
    // Act
    const settings = appSettingsFromContext(
      new App({ context: { env: 'prod', definitions: 'defs/orders.ts', apiGatewayCloudWatchRole: 'true' } }),
      '/repo',
    );

    // Assess
    expect(settings).toEqual({
      envName: 'prod',
      stackId: 'DualRead-prod',
      definitionsFile: '/repo/defs/orders.ts',
      createLegacyTablesForExample: false,
      apiGatewayCloudWatchRole: true,
    });
  });

  it.each([
    ['true', true],
    ['false', false],
    [true, true],
    [false, false],
  ])('reads example=%p as %p', (raw, expected) => {
    // Act
    const settings = appSettingsFromContext(new App({ context: { example: raw } }));

    // Assess
    expect(settings.createLegacyTablesForExample).toBe(expected);
  });

  it.each([
    [
      { env: '1dev' },
      'context "env": "1dev" is not a valid environment name (a letter, then letters, digits or dashes; at most 64)',
    ],
    [
      { env: 'dev_1' },
      'context "env": "dev_1" is not a valid environment name (a letter, then letters, digits or dashes; at most 64)',
    ],
    [{ example: 'yes' }, 'context "example": must be true or false, not "yes"'],
    [{ definitions: '' }, 'context "definitions": must be the path of a definitions file'],
  ])('refuses %p', (context, message) => {
    expect(() => appSettingsFromContext(new App({ context }))).toThrow(message);
  });
});

describe('App: bin/app.ts', () => {
  /** Runs the app as the CDK CLI does: context (cdk.json's flags plus `extra`) in CDK_CONTEXT_JSON. */
  function synth(extra: Record<string, unknown>): { status: number | null; stderr: string; outdir: string } {
    const { context } = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    };
    const outdir = mkdtempSync(join(tmpdir(), 'dualread-synth-'));
    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'bin', 'app.ts')],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          CDK_OUTDIR: outdir,
          CDK_CONTEXT_JSON: JSON.stringify({ ...context, ...extra }),
        },
      },
    );
    // esbuild's progress lines ("Bundling asset <path>...") are expected; anything else on stderr is not.
    const stderr = result.stderr
      .split('\n')
      .filter((line) => line.trim() !== '' && !/^Bundling asset \S+\.\.\.$/.test(line.trim()))
      .join('\n');
    return { status: result.status, stderr, outdir };
  }

  it('synthesizes DualRead-dev from the example, offline', () => {
    // Act
    const { status, stderr, outdir } = synth({});

    // Assess
    try {
      expect(stderr).toBe('');
      expect(status).toBe(0);
      const template = JSON.parse(readFileSync(join(outdir, 'DualRead-dev.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: { TableName?: string } }>;
      };
      const names = Object.values(template.Resources)
        .filter((r) => r.Type === 'AWS::DynamoDB::Table')
        .map((t) => t.Properties.TableName ?? '(generated)');
      expect(names.sort()).toEqual(['(generated)', 'app-data', 'users']);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('fails with the problem and no stack trace when an imported legacy table has no stream ARN', () => {
    // Act
    const { status, stderr, outdir } = synth({ example: 'false' });
    rmSync(outdir, { recursive: true, force: true });

    // Assess
    expect(status).toBe(1);
    expect(stderr).toMatch(
      /^dualread: DualReadMigration \(migration "users"\): the legacy table "users" is imported, but its stream ARN is unknown/,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
