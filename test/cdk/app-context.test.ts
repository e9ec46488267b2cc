import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import {
  EXAMPLE_DEFINITIONS_FILE,
  appSettingsFromContext,
  describeSynthRegion,
  synthRegion,
} from '../../lib';

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
    [{ region: 'Ireland' }, 'context "region": "Ireland" is not an AWS region name (for example eu-west-1)'],
  ])('refuses %p', (context, message) => {
    expect(() => appSettingsFromContext(new App({ context }))).toThrow(message);
  });
});

describe('Function: synthRegion', () => {
  it('takes -c region over CDK_DEFAULT_REGION, and says where the region came from', () => {
    // Prepare
    const withContext = appSettingsFromContext(new App({ context: { region: 'eu-central-1' } }));
    const without = appSettingsFromContext(new App());

    // Act & Assess
    expect(synthRegion(withContext, 'us-east-1')).toEqual({ region: 'eu-central-1', source: 'context' });
    expect(synthRegion(without, 'us-east-1')).toEqual({ region: 'us-east-1', source: 'CDK_DEFAULT_REGION' });
    expect(synthRegion(without, undefined)).toEqual({ source: 'none' });
    expect(describeSynthRegion('DualRead-dev', { region: 'eu-central-1', source: 'context' })).toBe(
      'dualread: synthesizing DualRead-dev for region eu-central-1 (from -c region)',
    );
    expect(describeSynthRegion('DualRead-dev', { source: 'none' })).toMatch(
      /without a region \(environment-agnostic\); set -c region=<region> or CDK_DEFAULT_REGION/,
    );
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
          CDK_DEFAULT_REGION: '',
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

  it('synthesizes DualRead-dev from the example, offline, for the region given, and says which', () => {
    // Act
    const { status, stderr, outdir } = synth({ region: 'eu-west-1' });

    // Assess: the root template and the migration's nested one.
    try {
      expect(stderr).toBe('dualread: synthesizing DualRead-dev for region eu-west-1 (from -c region)');
      expect(status).toBe(0);
      const resources = readdirSync(outdir)
        .filter((f) => /^DualRead-?dev.*\.template\.json$/.test(f) || f.endsWith('.nested.template.json'))
        .flatMap((f) =>
          Object.values(
            (
              JSON.parse(readFileSync(join(outdir, f), 'utf8')) as {
                Resources: Record<string, { Type: string; Properties: { TableName?: string } }>;
              }
            ).Resources,
          ),
        );
      const names = resources
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
      /^dualread: synthesizing DualRead-dev without a region.*\ndualread: DualReadMigration \(migration "users"\): the legacy table "users" is imported, but its stream ARN is unknown/,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
