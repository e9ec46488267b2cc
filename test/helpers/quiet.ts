/**
 * A logger and a metrics sink that record nothing, in the shape of the Powertools Logger and Metrics the
 * handlers use (pass them `as never`), for tests whose handlers would otherwise log every record.
 */
export const silentLogger = {
  info: () => undefined,
  debug: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export const quietMetrics = { addMetric: () => undefined, publishStoredMetrics: () => undefined };
