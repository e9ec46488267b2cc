/**
 * Planning a migration before it starts: time and cost per phase, Step Functions budgets (`dualread plan`).
 */
export * from './plan';
export * from './prices';
