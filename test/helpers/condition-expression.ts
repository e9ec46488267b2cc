/**
 * A small evaluator of DynamoDB condition expressions, for the in-memory fakes of unit tests: the
 * subset dualread sends (`attribute_exists`, `attribute_not_exists`, `=`, `<>`, `<`, `<=`, `>`, `>=`
 * between `#name` paths and `:value`s, `AND`, `OR`, `NOT`, parentheses), with DynamoDB's semantics as
 * observed on DynamoDB Local: keywords are case-insensitive; a comparison with a missing attribute or
 * a value of another type is false, except `<>`, which is then true; strings order by UTF-8 bytes,
 * numbers by value, binary by bytes; ordering a BOOL, NULL, set, list or map is a ValidationException,
 * as are undefined and unused `#names` / `:values`. Anything else (BETWEEN, IN, functions other than
 * the two) is refused as unsupported, so a test never passes on a condition this fake cannot judge.
 */
import { NamedError } from '../../core/common';
import {
  type AttributeValue,
  type Item,
  compareScalars,
  hasAttribute,
  typeOf,
  valuesEqual,
} from '../../core/model';

/** What DynamoDB answers with a ValidationException. */
export class ConditionExpressionError extends NamedError {}

type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';
type Operand = { readonly path: string } | { readonly value: string };
type Node =
  | { readonly op: 'or' | 'and'; readonly left: Node; readonly right: Node }
  | { readonly op: 'not'; readonly of: Node }
  | { readonly op: 'exists' | 'not_exists'; readonly path: string }
  | { readonly op: 'compare'; readonly cmp: Comparator; readonly left: Operand; readonly right: Operand };

const TOKEN = /\s*(<>|<=|>=|[=<>(),]|#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)/y;

function tokenize(expression: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(expression);
    if (!m) {
      if (expression.slice(at).trim() === '') break;
      throw new ConditionExpressionError(
        `Invalid ConditionExpression: Syntax error; token: "${expression.slice(at).trim()}"`,
      );
    }
    out.push(m[1] as string);
  }
  return out;
}

class Parser {
  private i = 0;
  readonly names = new Set<string>();
  readonly values = new Set<string>();
  constructor(private readonly tokens: readonly string[]) {}

  parse(): Node {
    const node = this.or();
    if (this.i !== this.tokens.length) this.fail(this.tokens[this.i]);
    return node;
  }

  private peek(): string | undefined {
    return this.tokens[this.i];
  }
  private keyword(word: string): boolean {
    if (this.peek()?.toUpperCase() !== word) return false;
    this.i++;
    return true;
  }
  private expect(token: string): void {
    if (this.peek() !== token) this.fail(this.peek());
    this.i++;
  }
  private fail(token: string | undefined): never {
    throw new ConditionExpressionError(
      `Invalid ConditionExpression: Syntax error; token: "${token ?? '<EOF>'}"`,
    );
  }

  private or(): Node {
    let left = this.and();
    while (this.keyword('OR')) left = { op: 'or', left, right: this.and() };
    return left;
  }
  private and(): Node {
    let left = this.not();
    while (this.keyword('AND')) left = { op: 'and', left, right: this.not() };
    return left;
  }
  private not(): Node {
    if (this.keyword('NOT')) return { op: 'not', of: this.not() };
    return this.primary();
  }
  private primary(): Node {
    const t = this.peek();
    if (t === '(') {
      this.i++;
      const node = this.or();
      this.expect(')');
      return node;
    }
    const fn = t?.toLowerCase();
    if (fn === 'attribute_exists' || fn === 'attribute_not_exists') {
      this.i++;
      this.expect('(');
      const path = this.path();
      this.expect(')');
      return { op: fn === 'attribute_exists' ? 'exists' : 'not_exists', path };
    }
    const left = this.operand();
    const cmp = this.peek();
    if (cmp === undefined || !['=', '<>', '<', '<=', '>', '>='].includes(cmp)) {
      throw new ConditionExpressionError(
        `Invalid ConditionExpression: "${cmp ?? '<EOF>'}" after an operand is not supported by this fake`,
      );
    }
    this.i++;
    return { op: 'compare', cmp: cmp as Comparator, left, right: this.operand() };
  }
  private path(): string {
    const t = this.peek();
    if (!t?.startsWith('#')) this.fail(t);
    this.i++;
    this.names.add(t);
    return t;
  }
  private operand(): Operand {
    const t = this.peek();
    if (t?.startsWith(':')) {
      this.i++;
      this.values.add(t);
      return { value: t };
    }
    if (t?.startsWith('#')) return { path: this.path() };
    if (t !== undefined && /^[A-Za-z_]/.test(t))
      throw new ConditionExpressionError(`Invalid ConditionExpression: "${t}" is not supported by this fake`);
    return this.fail(t);
  }
}

/**
 * Evaluates `expression` against the stored item (undefined: no item), as DynamoDB would.
 *
 * @throws ConditionExpressionError where DynamoDB answers ValidationException
 */
export function evaluateCondition(
  expression: string,
  names: Readonly<Record<string, string>>,
  values: Readonly<Record<string, AttributeValue>>,
  item: Item | undefined,
): boolean {
  const parser = new Parser(tokenize(expression));
  const tree = parser.parse();
  for (const n of parser.names)
    if (!hasOwn(names, n))
      throw new ConditionExpressionError(
        `An expression attribute name used in the document path is not defined; attribute name: ${n}`,
      );
  for (const v of parser.values)
    if (!hasOwn(values, v))
      throw new ConditionExpressionError(
        `An expression attribute value used in expression is not defined; attribute value: ${v}`,
      );
  const unusedNames = Object.keys(names).filter((n) => !parser.names.has(n));
  if (unusedNames.length)
    throw new ConditionExpressionError(
      `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
    );
  const unusedValues = Object.keys(values).filter((v) => !parser.values.has(v));
  if (unusedValues.length)
    throw new ConditionExpressionError(
      `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
    );

  const attribute = (path: string): AttributeValue | undefined => {
    const name = names[path] as string;
    return item && hasAttribute(item, name) ? item[name] : undefined;
  };
  const resolve = (o: Operand): AttributeValue | undefined =>
    'path' in o ? attribute(o.path) : (values[o.value] as AttributeValue);
  const evaluate = (node: Node): boolean => {
    switch (node.op) {
      case 'or':
        return evaluate(node.left) || evaluate(node.right);
      case 'and':
        return evaluate(node.left) && evaluate(node.right);
      case 'not':
        return !evaluate(node.of);
      case 'exists':
        return attribute(node.path) !== undefined;
      case 'not_exists':
        return attribute(node.path) === undefined;
      case 'compare': {
        const a = resolve(node.left);
        const b = resolve(node.right);
        if (node.cmp === '=' || node.cmp === '<>') {
          const equal = a !== undefined && b !== undefined && valuesEqual(a, b);
          return node.cmp === '=' ? equal : !equal;
        }
        for (const o of [a, b]) {
          if (o !== undefined && !['S', 'N', 'B'].includes(typeOf(o)))
            throw new ConditionExpressionError(
              `Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: ${node.cmp}, operand type: ${typeOf(o)}`,
            );
        }
        if (a === undefined || b === undefined) return false;
        const c = compareScalars(a, b);
        if (c === undefined) return false;
        return node.cmp === '<' ? c < 0 : node.cmp === '<=' ? c <= 0 : node.cmp === '>' ? c > 0 : c >= 0;
      }
    }
  };
  return evaluate(tree);
}

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}
