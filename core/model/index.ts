/**
 * Values and definitions: the raw `AttributeValue` model (validation, exact numbers, canonical
 * encoding, DynamoDB JSON and plain JSON), the migration definition (`defineMigration`), and the
 * metadata dualread writes on new-table items.
 */
export * from './canonical';
export * from './define-migration';
export * from './dynamo-json';
export * from './mapped-key';
export * from './metadata';
export * from './migration';
export * from './plain-json';
export * from './surfaces';
export {
  MAX_NESTING_LEVELS,
  assertAttributeValue,
  assertItem,
  findLostAttribute,
  normalizeNumber,
} from './validation';
export * from './values';
