/**
 * Typed factories of API Gateway REST proxy events for the read API, and reading its answers.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** Options of `apiEvent`. */
export interface ApiEventOptions {
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** Send `body` as is (a string) instead of JSON-encoding it. */
  readonly rawBody?: boolean;
}

/** An API Gateway proxy event for `method path`. */
export function apiEvent(method: string, path: string, options: ApiEventOptions = {}): APIGatewayProxyEvent {
  const body =
    options.body === undefined ? null : options.rawBody ? String(options.body) : JSON.stringify(options.body);
  return {
    httpMethod: method,
    path,
    resource: path,
    headers: { ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: options.query ? { ...options.query } : null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

/** A GET of one item by its legacy key (DynamoDB JSON). */
export function getItemEvent(
  migrationId: string,
  key: unknown,
  options: { headers?: Record<string, string>; query?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  return apiEvent('GET', `/migrations/${migrationId}/items`, {
    query: { key: JSON.stringify(key), ...options.query },
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

/** A GET of user `id` (the users example's key) through a read handler. */
export const read = (
  handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>,
  id = 'u-1',
  headers: Record<string, string> = {},
): Promise<APIGatewayProxyResult> => handler(getItemEvent('users', { userId: { S: id } }, { headers }));

/** The JSON body of an answer. */
export function body(r: APIGatewayProxyResult): Record<string, unknown> {
  return JSON.parse(r.body) as Record<string, unknown>;
}

/** The page-token secret the tests' read handlers sign with (the engine has no default secret). */
export const TEST_TOKEN_SECRET = 'test-page-token-secret-0123456789';
