/** Base of every error dualread raises on purpose. `name` is set so logs and the CLI can name it. */
export class DualReadError extends Error {
  override name = 'DualReadError';
}

/** A migration definition is invalid; the message says which migration, what is wrong and what to do. */
export class MigrationDefinitionError extends DualReadError {
  override name = 'MigrationDefinitionError';
  constructor(
    readonly migrationId: string,
    problem: string,
  ) {
    super(`migration "${migrationId}": ${problem}`);
  }
}
