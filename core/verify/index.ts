/**
 * Verification and repair: the per-item diff and its classes, checksums, segment checkpoints, what each
 * scan pass makes of a page, suspects, the lag-aware re-check, the report, and what a repair may write.
 */
export * from './checkpoint';
export * from './checksum';
export * from './diff';
export * from './errors';
export * from './gate';
export * from './passes';
export * from './recheck';
export * from './repair';
export * from './report';
export * from './suspect';
