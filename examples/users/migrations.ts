/**
 * The definitions file of the example: the default of `npm start`, the tests and `cdk synth`.
 * A definitions file exports `migrations`, an array of `defineMigration(...)` results.
 */
import { usersMigration } from './migration';

export const migrations = [usersMigration];
