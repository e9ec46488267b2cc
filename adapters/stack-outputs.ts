/**
 * A migration stack's CloudFormation outputs, as the AWS-side adapters find their resources by them
 * (`<Migration><Name>`, the prefix being the migration id in PascalCase).
 */

/** A stack's outputs by name. */
export type StackOutputs = Readonly<Record<string, string>>;

/** An output an adapter needs: its name after the prefix, and the error and fix when the stack lacks it. */
export interface RequiredOutput {
  readonly name: string;
  readonly missing: new (message: string) => Error;
  /** What to deploy; the end of the error's message. */
  readonly remedy: string;
}

/** The output `<prefix><name>`, or `missing` thrown naming it and saying `remedy` when the stack lacks it. */
export function requiredOutput(outputs: StackOutputs, prefix: string, output: RequiredOutput): string {
  const value = outputs[`${prefix}${output.name}`];
  if (!value) throw new output.missing(`the stack has no ${prefix}${output.name} output: ${output.remedy}`);
  return value;
}
