/**
 * The fault layer of local mode: a pure plan of which fault fires for which call (`plan.ts`), the SDK
 * middleware that injects it where real faults enter (`middleware.ts`), and the named faults of
 * `dualread rehearse --faults` (`catalog.ts`).
 */
export * from './plan';
export * from './middleware';
export * from './catalog';
export * from './rehearsal';
export * from './processes';
export * from './poison';
export * from './skew';
