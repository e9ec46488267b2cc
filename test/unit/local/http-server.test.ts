/**
 * The local read API's HTTP edges (issue 9, item 18): whatever arrives on the socket gets an HTTP
 * answer with a JSON error body, including requests node:http does not hand to a request listener
 * (CONNECT, malformed framing, oversized headers). Raw sockets, because fetch cannot send them.
 */
import { connect } from 'node:net';
import { type ReadApiServer, startReadApiServer } from '../../../local/http-server';

/** Sends raw bytes and collects everything the server answers until it closes the connection. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(request);
  });
}

/** Status and JSON body of a raw HTTP/1.1 response. */
function parse(response: string): { status: number; contentType: string; body: { message?: string } } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const contentType = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  return { status, contentType, body: body ? (JSON.parse(body) as { message?: string }) : {} };
}

describe('Function: startReadApiServer (HTTP edges)', () => {
  let server: ReadApiServer;
  beforeAll(async () => {
    server = await startReadApiServer({
      handler: async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' }),
    });
  });
  afterAll(() => server.close());

  it.each([
    [
      'CONNECT',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      405,
      /CONNECT is not supported/,
    ],
    ['an unparsable request line', 'HELLO THERE\r\n\r\n', 400, /malformed HTTP request/],
    [
      'a bad Content-Length',
      'POST /migrations/users/batch-get HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      400,
      /malformed HTTP request/,
    ],
    [
      'both Content-Length and Transfer-Encoding',
      'POST /migrations/users/batch-get HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      /malformed HTTP request/,
    ],
    [
      'oversized headers',
      `GET /migrations/users/items HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      /headers are too large/,
    ],
  ])('answers %s with a JSON error body', async (_name, request, status, message) => {
    // Act
    const r = parse(await raw(server.port, request));

    // Assess
    expect(r.status).toBe(status);
    expect(r.contentType).toBe('application/json');
    expect(r.body.message).toMatch(message);
  });

  it('still answers a well-formed request through the handler', async () => {
    const response = await raw(
      server.port,
      'GET /migrations/users/items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});
