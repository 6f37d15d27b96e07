/**
 * Runs a fetch-style handler on Node's http server (Node 20 has Request and Response built in).
 *
 * @example
 * const s = await listen(createHandler(rec), { port: 8080 });   // 127.0.0.1 unless host says otherwise
 * console.log(s.url); await s.close();
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

export interface Listening { server: Server; url: string; port: number; close(): Promise<void> }

function toRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', origin), {
    method: req.method, headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    duplex: 'half',
  } as RequestInit);
}

export function listen(handler: (req: Request) => Promise<Response>, { port = 8080, host = '127.0.0.1' } = {}): Promise<Listening> {
  const server = createServer(async (req, res) => {
    try {
      const response = await handler(toRequest(req, 'http://localhost'));
      const headers: Record<string, string> = {};
      response.headers.forEach((v, k) => { headers[k] = v; });
      res.writeHead(response.status, headers);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch {
      // Only a malformed request line or header (the handler answers everything else) lands here.
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":"bad request"}');
    }
  });
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address() as AddressInfo;
      resolve({
        server, port: actual, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
        close: () => new Promise<void>((done) => { server.close(() => done()); server.closeAllConnections(); }),
      });
    });
  });
}
