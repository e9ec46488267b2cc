import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { traced, withColdStartMetric } from '../../../lambdas/common/observability';

/** The names of the middleware of `client`'s stack. */
function middleware(client: DynamoDBClient): string[] {
  return client.middlewareStack.identify();
}

describe('Function: traced', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('wraps the SDK client with X-Ray instrumentation when tracing is on (in Lambda)', () => {
    // Prepare: what Lambda sets; tracing is on unless POWERTOOLS_TRACE_ENABLED=false.
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x';
    const tracer = new Tracer({ serviceName: 'dualread-test' });

    // Act
    const client = traced(tracer, new DynamoDBClient({ region: 'eu-west-1' }));

    // Assess
    expect(tracer.isTracingEnabled()).toBe(true);
    expect(middleware(client).join(' ')).toMatch(/XRaySDKInstrumentation/);
  });

  it('leaves the client as it is when the function turned tracing off (POWERTOOLS_TRACE_ENABLED=false)', () => {
    // Prepare: what lib/nodejs-function.ts sets with lambdaObservability.tracing false.
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x';
    process.env.POWERTOOLS_TRACE_ENABLED = 'false';
    const tracer = new Tracer({ serviceName: 'dualread-test' });
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    const before = middleware(client);

    // Act
    const result = traced(tracer, client);

    // Assess
    expect(result).toBe(client);
    expect(middleware(result)).toEqual(before);
  });

  it('leaves the client as it is outside Lambda (tests, local mode)', () => {
    // Prepare
    delete process.env.AWS_EXECUTION_ENV;
    const client = new DynamoDBClient({ region: 'eu-west-1' });

    // Act
    const result = traced(new Tracer({ serviceName: 'dualread-test' }), client);

    // Assess
    expect(middleware(result).join(' ')).not.toMatch(/XRaySDKInstrumentation/);
  });
});

describe('Function: withColdStartMetric', () => {
  it('asks for the cold-start metric on every invocation with the function name, and returns what the handler returns', async () => {
    // Prepare: Powertools publishes ColdStart on the first call only (tested by Powertools).
    const calls: Array<string | undefined> = [];
    const metrics = { captureColdStartMetric: (name?: string) => void calls.push(name) };
    const handler = withColdStartMetric('dualread-test', async (n: number, _ctx: unknown) => n * 2, metrics);

    // Act
    const results = [await handler(1, { functionName: 'fn-a' }), await handler(2, { functionName: 'fn-a' })];

    // Assess
    expect(results).toEqual([2, 4]);
    expect(calls).toEqual(['fn-a', 'fn-a']);
  });
});
