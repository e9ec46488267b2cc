/**
 * Logger, metrics and tracer of a dualread Lambda (Powertools): the function's service name (one of
 * `Service`), the migration as a persistent log key and as the metrics' dimension, namespace `dualread`;
 * the SDK clients traced as X-Ray subsegments, and a cold-start metric per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** The service name of each function: its logs' `service`, its metrics' `service` dimension, its traces. */
export const Service = {
  SYNC: 'dualread-sync',
  FRONTIER: 'dualread-frontier',
  BACKFILL: 'dualread-backfill',
  VERIFY: 'dualread-verify',
  READ: 'dualread-read',
  CONTROL: 'dualread-control',
} as const;
export type Service = (typeof Service)[keyof typeof Service];

/** The CloudWatch namespace of every dualread metric. */
export const METRICS_NAMESPACE = 'dualread';

const tracers = new Map<string, Tracer>();

/**
 * The Tracer of `serviceName`, one per container. On in Lambda with active tracing; off when the
 * function's `POWERTOOLS_TRACE_ENABLED` is `false` (what lib/nodejs-function.ts sets when tracing is
 * turned off) and outside Lambda (tests, local mode), where it changes nothing.
 */
export function functionTracer(serviceName: string): Tracer {
  let tracer = tracers.get(serviceName);
  if (!tracer) tracers.set(serviceName, (tracer = new Tracer({ serviceName })));
  return tracer;
}

/** `client` with its SDK calls recorded as X-Ray subsegments when `tracer` is on; as it is when off. */
export function traced<C>(tracer: Tracer, client: C): C {
  return tracer.isTracingEnabled() ? tracer.captureAWSv3Client(client) : client;
}

/**
 * `handler` publishing the Powertools `ColdStart` metric (dimensions `service`, `function_name`) on the
 * first invocation of each container: how often cold starts happen, next to the latency they add.
 */
export function withColdStartMetric<A extends unknown[], R>(
  serviceName: string,
  handler: (...args: A) => R,
  metrics: Pick<Metrics, 'captureColdStartMetric'> = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName,
  }),
): (...args: A) => R {
  return (...args: A): R => {
    const context = args[1] as { functionName?: string } | undefined;
    metrics.captureColdStartMetric(context?.functionName);
    return handler(...args);
  };
}

/** Logger and metrics of the function `serviceName` (`dualread-sync`, ...) for a migration. */
export function lambdaObservability(
  serviceName: string,
  migrationId: string,
): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName, persistentKeys: { migrationId } }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName, defaultDimensions: { migrationId } }),
  };
}

/**
 * The logger and metrics a handler's dependencies carry (tests and local mode pass their own), and the
 * function's own for what they do not carry.
 */
export function observabilityOf(
  given: { readonly logger?: Logger; readonly metrics?: Metrics },
  serviceName: string,
  migrationId: string,
): { logger: Logger; metrics: Metrics } {
  const own = given.logger && given.metrics ? undefined : lambdaObservability(serviceName, migrationId);
  return {
    logger: given.logger ?? (own as { logger: Logger }).logger,
    metrics: given.metrics ?? (own as { metrics: Metrics }).metrics,
  };
}
