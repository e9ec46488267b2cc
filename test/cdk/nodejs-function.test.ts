import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DualReadFunction, EXAMPLE_DEFINITIONS_FILE, type LambdaObservability } from '../../lib';
import { nagFindings, newApp } from './helpers';

const ENTRY = join(__dirname, 'fixtures', 'probe-handler.ts');
const PROBE_DEFINITIONS = join(__dirname, 'fixtures', 'probe-definitions.ts');

/** Synthesizes one DualReadFunction and returns its template and bundled code. */
function bundle(definitionsFile: string): { template: Template; code: string } {
  const app = newApp({}, { bundle: true });
  const stack = new Stack(app, 'Test');
  new DualReadFunction(stack, 'Probe', { entry: ENTRY, definitionsFile, timeout: Duration.seconds(10) });
  const template = Template.fromStack(stack);
  const assembly = app.synth();
  const assets = readdirSync(assembly.directory).filter((f) => f.startsWith('asset.'));
  expect(assets).toHaveLength(1);
  return { template, code: readFileSync(join(assembly.directory, assets[0] as string, 'index.js'), 'utf8') };
}

/** The template of one DualReadFunction (of the example definitions, not bundled) with `observability`. */
function unbundledProbe(observability?: LambdaObservability): Template {
  const stack = new Stack(newApp(), 'Test');
  new DualReadFunction(stack, 'Probe', {
    entry: ENTRY,
    definitionsFile: EXAMPLE_DEFINITIONS_FILE,
    timeout: Duration.seconds(10),
    ...(observability ? { observability } : {}),
  });
  return Template.fromStack(stack);
}

describe('Construct: DualReadFunction', () => {
  // Bundling and synth take seconds: the example bundle is built once and shared.
  let example: ReturnType<typeof bundle>;
  beforeAll(() => {
    example = bundle(EXAMPLE_DEFINITIONS_FILE);
  });

  it('runs Node 24 on arm64 (code targeting Node 20) with source maps enabled', () => {
    // Act
    const { template } = example;

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
    });
  });

  it('bundles the AWS SDK instead of using the runtime copy', () => {
    // Act
    const { code } = example;

    // Assess: the DynamoDB client is in the bundle (its wire protocol's target prefix), and no require of
    // an @aws-sdk or @smithy package is left for the runtime to satisfy. The SDK's error messages quote
    // `[require("@aws-sdk/signature-v4-crt")]`-style text, which the lookbehind leaves out.
    expect(code).toContain('DynamoDB_20120810');
    const external = [...code.matchAll(/(?<!\[)require\(["']((?:@aws-sdk|@smithy)\/[^"']+)["']\)/g)].map(
      (m) => m[1],
    );
    expect(external).toEqual([]);
  });

  it('compiles in the definitions file it is given, through the dualread-definitions alias', () => {
    // Act
    const probe = bundle(PROBE_DEFINITIONS);

    // Assess
    expect(probe.code).toContain('alias-probe-7f3a');
    expect(probe.code).not.toContain('USER#');
    expect(example.code).toContain('USER#');
    expect(example.code).not.toContain('alias-probe-7f3a');
  });

  it('refuses relative paths', () => {
    // Prepare
    const stack = new Stack(newApp({}, { bundle: true }), 'Test');

    // Act & Assess
    expect(
      () =>
        new DualReadFunction(stack, 'Probe', {
          entry: ENTRY,
          definitionsFile: 'examples/users/migrations.ts',
          timeout: Duration.seconds(10),
        }),
    ).toThrow(
      'DualReadFunction: entry (' +
        ENTRY +
        ') and definitionsFile (examples/users/migrations.ts) must be absolute paths',
    );
  });

  it('refuses a definitions file that does not exist', () => {
    // Prepare
    const stack = new Stack(newApp({}, { bundle: true }), 'Test');
    const missing = join(__dirname, 'fixtures', 'missing.ts');

    // Act & Assess
    expect(
      () =>
        new DualReadFunction(stack, 'Probe', {
          entry: ENTRY,
          definitionsFile: missing,
          timeout: Duration.seconds(10),
        }),
    ).toThrow(`DualReadFunction: definitionsFile ${missing} does not exist`);
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    // Prepare
    const app = newApp({}, { bundle: true });
    const stack = new Stack(app, 'Test');
    new DualReadFunction(stack, 'Probe', {
      entry: ENTRY,
      definitionsFile: EXAMPLE_DEFINITIONS_FILE,
      timeout: Duration.seconds(10),
    });

    // Act & Assess
    expect(nagFindings(app)).toEqual([]);
  });

  it('traces actively and keeps its logs a year, writing only to its own log group (no managed policy)', () => {
    // Act
    const template = unbundledProbe();

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(roles).toHaveLength(1);
    expect(
      (roles[0] as { Properties: Record<string, unknown> }).Properties.ManagedPolicyArns,
    ).toBeUndefined();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'WriteOwnLogs',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProbeLogGroup'), 'Arn'] },
          },
        ],
      },
    });
  });

  it('turns tracing off (and the Powertools Tracer with it) and sets the log retention on request', () => {
    // Act
    const template = unbundledProbe({ tracing: false, logRetention: logs.RetentionDays.ONE_WEEK });

    // Assess
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { TracingConfig?: unknown; Environment: { Variables: Record<string, string> } };
    }>;
    expect(fn?.Properties.TracingConfig).toBeUndefined();
    expect(fn?.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBe('false');
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/xray:/);
  });
});
