/**
 * A fetch-style HTTP handler, `(Request) => Promise<Response>`, that runs unchanged in Node (serve/node.ts),
 * Deno (`Deno.serve(handler)`) and Cloudflare's workerd (`export default { fetch: handler }`).
 *
 *   GET  /health                          → { status: "ok", users, items, version }
 *   GET  /recommend?user=<raw id>&k=<n>   → { user, items: [{ item, score }] }   (raw ids, best first)
 *   POST /recommend  { user, k?, exclude?: [raw ids], includeSeen?: boolean }
 *
 * Bad input answers 4xx with { error }; nothing a client sends produces a 500 or a stack trace.
 *
 * @example
 * const handler = createHandler(await createRecommender(bytes));
 * Deno.serve({ hostname: '127.0.0.1', port: 8080 }, handler);
 */
import { MAX_K, RecommendError, type Recommender } from './recommender.js';

/** Largest POST body read (bytes). */
export const MAX_BODY = 64 * 1024;
const MAX_EXCLUDE = 10_000;

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), {
  status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
});
const bad = (message: string, status = 400) => new RecommendError(message, status);

/** A raw id: a non-negative 32-bit integer, given as a number or a string of digits. */
function rawId(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1) {
    throw bad(`${what} must be a non-negative integer id`);
  }
  return n;
}

function parseK(v: unknown): number {
  if (v === undefined || v === null) return 20;
  const n = typeof v === 'string' && /^\d{1,7}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_K) throw bad(`k must be an integer from 1 to ${MAX_K}`);
  return n;
}

/** Reads at most MAX_BODY bytes of the body (a larger one is refused without reading it all). */
async function readBody(req: Request): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY) throw bad(`request body larger than ${MAX_BODY} bytes`, 413);
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY) {
      await reader.cancel().catch(() => {});
      throw bad(`request body larger than ${MAX_BODY} bytes`, 413);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.byteLength; }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(all);
  } catch {
    throw bad('request body is not valid UTF-8');
  }
}

async function postQuery(req: Request) {
  const text = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw bad('malformed JSON body');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).find((key) => !['user', 'k', 'exclude', 'includeSeen'].includes(key));
  if (unknown !== undefined) throw bad(`unknown field "${unknown.slice(0, 40)}"`);
  if (b.exclude !== undefined && (!Array.isArray(b.exclude) || b.exclude.length > MAX_EXCLUDE)) {
    throw bad(`exclude must be an array of at most ${MAX_EXCLUDE} item ids`);
  }
  if (b.includeSeen !== undefined && typeof b.includeSeen !== 'boolean') throw bad('includeSeen must be true or false');
  return {
    user: rawId(b.user, 'user'),
    k: parseK(b.k),
    exclude: ((b.exclude ?? []) as unknown[]).map((x) => rawId(x, 'exclude[]')),
    includeSeen: b.includeSeen === true,
  };
}

function getQuery(url: URL) {
  const user = url.searchParams.get('user');
  if (user === null) throw bad('missing query parameter user');
  const seen = url.searchParams.get('includeSeen');
  if (seen !== null && seen !== 'true' && seen !== 'false') throw bad('includeSeen must be true or false');
  return { user: rawId(user, 'user'), k: parseK(url.searchParams.get('k') ?? undefined), exclude: [], includeSeen: seen === 'true' };
}

export function createHandler(rec: Recommender): (req: Request) => Promise<Response> {
  return async (req) => {
    try {
      const url = new URL(req.url);
      if (url.pathname === '/health') {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw bad(`method ${req.method} not allowed on /health`, 405);
        return json(200, { status: 'ok', users: rec.users, items: rec.items, version: rec.version });
      }
      if (url.pathname === '/recommend') {
        if (req.method !== 'GET' && req.method !== 'POST') throw bad(`method ${req.method} not allowed on /recommend`, 405);
        const q = req.method === 'POST' ? await postQuery(req) : getQuery(url);
        const items = await rec.recommend(q.user, { k: q.k, exclude: q.exclude, includeSeen: q.includeSeen });
        return json(200, { user: q.user, items });
      }
      throw bad(`no route ${url.pathname.slice(0, 100)} (try GET /health or /recommend?user=<id>)`, 404);
    } catch (e) {
      if (e instanceof RecommendError) return json(e.status, { error: e.message });
      // Not the client's fault: say so without internals.
      return json(500, { error: 'internal error' });
    }
  };
}
