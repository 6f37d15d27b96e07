// Builds the four kernel variants of asconfig.json side by side: plain SIMD, relaxed SIMD (FMA), and
// each again over a shared, imported memory for worker threads. The backend picks one at run time.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const TARGETS = ['release', 'relaxed', 'threads', 'threads-relaxed'];
const asc = createRequire(import.meta.url).resolve('assemblyscript/bin/asc.js');

const build = (target) => new Promise((resolve, reject) => {
  const child = spawn(process.execPath, [asc, 'wasm/assembly/index.ts', '--target', target], { stdio: 'inherit' });
  child.on('error', reject);
  child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`asc --target ${target} exited with ${code}`))));
});

try {
  await Promise.all(TARGETS.map(build));
} catch (e) {
  console.error(`build:wasm: ${e.message}`);
  process.exit(1);
}
