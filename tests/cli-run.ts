// `bin/infodcl.js` in a child process, as users run it: exit code and both streams. From source, so a
// stale dist/ cannot hide a change; INFODCL_DEBUG unset, so no stack traces appear.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface Run { code: number | null; stdout: string; stderr: string }

export function runCli(...args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const env = { ...process.env, INFODCL_FROM_SOURCE: '1', INFODCL_DEBUG: '' };
    const child = spawn(process.execPath, ['bin/infodcl.js', ...args], { cwd: repoRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
