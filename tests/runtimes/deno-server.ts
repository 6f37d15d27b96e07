// Run by Deno (tests/runtimes/deno.test.ts): `deno run --sloppy-imports deno-server.ts <artifact> [backend]`.
// Serves the handler with Deno.serve on 127.0.0.1, prints {"port"} once listening, stops on SIGTERM.
import { createHandler, createRecommender } from '../../ts-api/serve/index.js';

declare const Deno: {
  args: string[];
  readFile(path: string): Promise<Uint8Array>;
  serve(options: { hostname: string; port: number; onListen(addr: { port: number }): void }, handler: (req: Request) => Promise<Response>): { shutdown(): Promise<void>; finished: Promise<void> };
  addSignalListener(signal: 'SIGTERM', fn: () => void): void;
};

const [path, backend] = Deno.args;
const rec = await createRecommender(await Deno.readFile(path), { backend: backend || undefined });
const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(JSON.stringify({ port })) }, createHandler(rec));
Deno.addSignalListener('SIGTERM', () => { server.shutdown(); });
await server.finished;
rec.dispose();
console.log('stopped');
