/**
 * An error whose `name` is the name of the class it was made with (`new.target.name`), so no error
 * class repeats its own name. The name is what Step Functions Retry/Catch match (the Lambda runtime
 * reports it as `errorType`), what the CLI maps to exit codes and what logs print: bundles keep class
 * names (esbuild `keepNames`, lib/nodejs-function.ts) for it.
 */
export class NamedError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Base of every error dualread raises on purpose; its `name` is its class's name (`NamedError`). */
export class DualReadError extends NamedError {}

/** A migration definition is invalid; the message says which migration, what is wrong and what to do. */
export class MigrationDefinitionError extends DualReadError {
  constructor(
    readonly migrationId: string,
    problem: string,
  ) {
    super(`migration "${migrationId}": ${problem}`);
  }
}
