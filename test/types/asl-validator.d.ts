/** Types of `asl-validator` 4 (the package ships none): validates an Amazon States Language document. */
declare module 'asl-validator' {
  interface AslValidationError {
    readonly 'Error code'?: string;
    readonly Message?: string;
    readonly path?: string;
  }
  function validator(
    definition: object,
    options?: { readonly checkPaths?: boolean; readonly checkArn?: boolean },
  ): {
    readonly isValid: boolean;
    readonly errors: readonly AslValidationError[];
    readonly errorsText: (sep?: string) => string;
  };
  export = validator;
}
