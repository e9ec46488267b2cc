/**
 * The migration dashboard: one per migration, in the migration's nested stack, named after the root
 * stack, output by the root; every dualread metric it shows is one a handler publishes.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DualReadStack } from '../../lib';
import { ORDERS_DEFINITIONS_FILE, newApp, ordersLike } from './helpers';

const ROOT = join(__dirname, '..', '..');

/** The dashboard body with every token replaced by `<token>`, parsed. */
function bodyOf(template: Template): { widgets: Array<{ properties: { metrics?: unknown[][] } }> } {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Array<{
    Properties: { DashboardBody: { 'Fn::Join': [string, unknown[]] } };
  }>;
  const parts = dashboard?.Properties.DashboardBody['Fn::Join'][1] ?? [];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : '<token>')).join('')) as ReturnType<
    typeof bodyOf
  >;
}

/** `[namespace, metricName]` of every metric of the body (CloudWatch's compact `["ns", "name", ...]` or `[".", ...]`). */
function metricsOf(body: ReturnType<typeof bodyOf>): Array<[string, string]> {
  return body.widgets.flatMap((w) => {
    let last: [string, string] = ['', ''];
    return (w.properties.metrics ?? []).map((m) => {
      const ns = m[0] === '.' ? last[0] : String(m[0]);
      const name = m[1] === '.' ? last[1] : String(m[1]);
      last = [ns, name];
      return last;
    });
  });
}

/** The source of every handler (and the verification report's metric list). */
function handlerSources(): string {
  const files = readdirSync(join(ROOT, 'lambdas'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(ROOT, 'lambdas', f));
  return [...files, join(ROOT, 'core', 'verify', 'report.ts')].map((f) => readFileSync(f, 'utf8')).join('\n');
}

/** True if the handlers publish `name`: as a literal, or from a template (`ReadLatency.${route}.${mode}`). */
function published(source: string, name: string): boolean {
  const [head] = name.split('.');
  return name.includes('.') ? source.includes(`\`${head}.\${`) : source.includes(`'${name}'`);
}

describe('Construct: MigrationDashboard', () => {
  let stack: DualReadStack;
  let root: Template;
  let nested: Template[];
  beforeAll(() => {
    stack = new DualReadStack(newApp(), 'DualRead-prod', {
      migrations: [ordersLike('orders-a'), ordersLike('orders-b')],
      envName: 'prod',
      definitionsFile: ORDERS_DEFINITIONS_FILE,
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    root = Template.fromStack(stack);
    nested = stack.migrationStacks.map((n) => Template.fromStack(n));
  });

  it('creates one dashboard per migration, in its nested stack, named <root stack>-<migration>', () => {
    // Assess
    root.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(nested.map((t) => Object.keys(t.findResources('AWS::CloudWatch::Dashboard')).length)).toEqual([
      1, 1,
    ]);
    nested[0]?.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'DualRead-prod-orders-a',
    });
    nested[1]?.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'DualRead-prod-orders-b',
    });
  });

  it('outputs each dashboard name from the root stack', () => {
    // Assess
    root.hasOutput('OrdersADashboardName', { Value: { 'Fn::GetAtt': [Match.anyValue(), Match.anyValue()] } });
    root.hasOutput('OrdersBDashboardName', {});
  });

  it('shows phase, backfill, CDC and frontier lag, reads, latency, mismatches, dead letters and verification', () => {
    // Act
    const names = new Set(metricsOf(bodyOf(nested[0] as Template)).map(([, n]) => n));

    // Assess
    for (const name of [
      'Phase',
      'RolloutPercent',
      'BackfillItemsCopied',
      'IteratorAge',
      'FrontierLagSeconds',
      'ServedFromNew',
      'ServedFromLegacy',
      'ReadsByReason.FRESH_ITEM_IN_NEW',
      'ReadLatency.new.bounded',
      'ReadLatency.legacy.strong',
      'ShadowComparisons.missing',
      'ShadowComparisons.content',
      'ApproximateNumberOfMessagesVisible',
      'VerifyConfirmedDrift',
    ])
      expect(names).toContain(name);
  });

  it('reads only dualread metrics the handlers publish, with the migration and service dimensions', () => {
    // Prepare
    const source = handlerSources();
    const metrics = metricsOf(bodyOf(nested[0] as Template)).filter(([ns]) => ns === 'dualread');

    // Assess
    expect(metrics.length).toBeGreaterThan(40);
    expect(metrics.filter(([, name]) => !published(source, name))).toEqual([]);
    expect(JSON.stringify(bodyOf(nested[0] as Template))).toContain('"migrationId","orders-a"');
  });
});
