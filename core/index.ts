export * from './control';
export * from './control-codec';
export * from './errors';
export * from './metadata';
export * from './migration';
export * from './values';
