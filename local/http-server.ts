/**
 * Local mode's read API: a node:http server on the loopback interface that turns each request into an
 * API Gateway REST proxy event and answers with the same handler the Lambda runs (`makeReadHandler`).
 *
 *   const server = await startReadApiServer({ handler: makeReadHandler(deps), port: 8787 });
 *   curl 'http://127.0.0.1:8787/migrations/users/items?key={"userId":{"S":"u-1"}}'
 */
import { type IncomingMessage, STATUS_CODES, type Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** A running local read API. */
export interface ReadApiServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Options of `startReadApiServer`. */
export interface ReadApiServerOptions {
  readonly handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Largest body read; longer bodies get 413 without reaching the handler. @default 1 MiB */
  readonly maxBodyBytes?: number;
}

/** Builds the API Gateway proxy event of a request (what API Gateway's REST proxy integration sends). */
export function toProxyEvent(req: IncomingMessage, body: string | null): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const headers: Record<string, string> = {};
  const multiHeaders: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    headers[k] = values[values.length - 1] as string;
    multiHeaders[k] = values;
  }
  return {
    httpMethod: req.method ?? 'GET',
    path: decodeURI(url.pathname),
    resource: url.pathname,
    headers,
    multiValueHeaders: multiHeaders,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      httpMethod: req.method ?? 'GET',
      path: url.pathname,
      stage: 'local',
      requestTimeEpoch: Date.now(),
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

/** Writes a complete JSON error response on a raw socket and closes it (for what never reaches a request). */
function answerRaw(
  socket: Socket,
  status: number,
  message: string,
  extra: Record<string, string> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...extra,
  };
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      `\r\n${body}`,
  );
}

/**
 * Answers what node:http does not hand to the request listener, so every request gets an HTTP answer
 * with a JSON body: CONNECT (405; node closes the socket otherwise), and malformed framing, oversized
 * headers or a header timeout (400 / 431 / 408; node answers a bare status line otherwise).
 */
function answerEdges(server: Server): void {
  server.on('connect', (_req: IncomingMessage, socket: Socket) =>
    answerRaw(
      socket,
      405,
      'CONNECT is not supported: this is the dual-read API, not a proxy; send GET /migrations/{id}/items|query or POST /migrations/{id}/batch-get|query',
      { allow: 'GET, POST' },
    ),
  );
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (err.code === 'ECONNRESET') {
      socket.destroy(); // the client went away: nobody to answer
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW')
      answerRaw(socket, 431, 'request headers are too large; send at most 16 KiB of headers');
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
      answerRaw(socket, 408, 'the request was not received in time; send it again');
    else
      answerRaw(
        socket,
        400,
        `malformed HTTP request (${err.code ?? 'parse error'}): send HTTP/1.1 with a valid request line, headers and body length`,
      );
  });
}

/** Starts the server on 127.0.0.1 (never on other interfaces: local mode has no authentication). */
export function startReadApiServer(options: ReadApiServerOptions): Promise<ReadApiServer> {
  const max = options.maxBodyBytes ?? 1024 * 1024;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `request body over ${max} bytes` }));
        return;
      }
      let event: APIGatewayProxyEvent;
      try {
        event = toProxyEvent(req, chunks.length ? Buffer.concat(chunks).toString('utf8') : null);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'the request URL is not valid' }));
        return;
      }
      options.handler(event).then(
        (out) => {
          res.writeHead(out.statusCode, out.headers as Record<string, string>);
          res.end(out.isBase64Encoded ? Buffer.from(out.body, 'base64') : out.body);
        },
        () => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: 'internal error' }));
        },
      );
    });
  });
  answerEdges(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
