/**
 * The control table's model: phases, the STATE/FRONTIER/AUDIT shapes and their exact codec, and the
 * run controls (lock with lease, pause and rate) that the backfill and verification share; the phase
 * machine, its guardrails and the `MigrationFacts` they read (the control plane's pure half).
 */
export * from './alarm';
export * from './codec';
export * from './cutover';
export * from './errors';
export * from './facts';
export * from './guardrails';
export * from './phase-machine';
export * from './run-controls';
export * from './run-input';
export * from './run-lock';
export * from './run-rate';
export * from './state';
export * from './surface-coverage';
