/**
 * Logger and metrics of a dualread Lambda (Powertools): the function's service name, the migration as a
 * persistent log key and as the metrics' dimension, namespace `dualread`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Logger and metrics of the function `serviceName` (`dualread-sync`, ...) for a migration. */
export function lambdaObservability(
  serviceName: string,
  migrationId: string,
): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName, persistentKeys: { migrationId } }),
    metrics: new Metrics({ namespace: 'dualread', serviceName, defaultDimensions: { migrationId } }),
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
