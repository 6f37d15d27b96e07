/**
 * Minimal reproduction of the intermittent Dawn-in-Node failure (segfault, abort or hang) seen when the
 * JavaScript thread stays busy while long GPU work is in flight. Plain WebGPU calls, no engine.
 *
 * The cause (found with this script and gdb): the GPU object that `create()` returns was not kept. Once
 * it is garbage-collected, Dawn's instance is freed, but the binding's AsyncRunner keeps calling
 * `instance.ProcessEvents()` from a setImmediate loop while any promise (mapAsync, onSubmittedWorkDone)
 * is pending: a use after free. Backtraces: SIGSEGV in pthread_mutex_lock(0x18) under
 * CallbackTaskManager::Flush ← InstanceBase::ProcessEvents; SIGABRT from std::system_error (EINVAL) or
 * glibc's "The futex facility returned an unexpected error code" in the same frame; or a hang. Long GPU
 * jobs and a busy, allocating JS thread only make a GC during the polling window likely. Keeping a
 * reference to the GPU object (--keep-gpu; what backends/webgpu does) removes every failure.
 *
 * Each round submits one long compute dispatch (a dependent-FMA loop per invocation, ~`--ms` on the
 * device), then, per mode:
 *   busy     blocks the JS thread (a synchronous spin) for `--spin` ms while the work is in flight, then
 *            maps the result;
 *   gc       like busy, and also drops every JS reference to the buffers and bind group of the job and
 *            forces a GC while the work is in flight (run with --expose-gc);
 *   destroy  destroys the job's buffers right after submit, while the GPU still runs it;
 *   yielding never blocks: awaits onSubmittedWorkDone, yielding to the event loop (the backend's way).
 *
 * Usage: node --expose-gc --import tsx benchmarks/webgpu/crash-repro.ts --mode busy --rounds 20
 *        node --import tsx benchmarks/webgpu/crash-repro.ts --matrix 10   (every mode, 10 child processes each)
 * The matrix prints, per mode, how many child processes exited cleanly, crashed (signal / non-zero) or hung.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

const MODES = ['busy', 'gc', 'destroy', 'yielding'] as const;
type Mode = typeof MODES[number];

const SHADER = `
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<uniform> iters: vec4<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  var x = f32(id.x) * 1e-6;
  for (var k = 0u; k < iters.x; k++) { x = fma(x, 0.999999, 1e-7); }
  Y[id.x] = x;
}`;

async function round(device: GPUDevice, pipeline: GPUComputePipeline, mode: Mode, iters: number, spinMs: number): Promise<number> {
  const n = 64 * 256;
  let out: GPUBuffer | null = device.createBuffer({ size: n * 4, usage: 0x80 | 0x4 }); // STORAGE | COPY_SRC
  let uni: GPUBuffer | null = device.createBuffer({ size: 16, usage: 0x40 | 0x8 }); // UNIFORM | COPY_DST
  const staging = device.createBuffer({ size: 16, usage: 0x1 | 0x8 }); // MAP_READ | COPY_DST
  device.queue.writeBuffer(uni, 0, new Uint32Array([iters, 0, 0, 0]));
  let group: GPUBindGroup | null = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: { buffer: uni } }],
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(n / 64);
  pass.end();
  enc.copyBufferToBuffer(out, 0, staging, 0, 16);
  device.queue.submit([enc.finish()]);
  if (mode === 'destroy') { out.destroy(); uni.destroy(); }
  if (mode === 'gc') {
    out = null; uni = null; group = null;
    (globalThis as { gc?: () => void }).gc?.();
  }
  if (mode === 'yielding') {
    await device.queue.onSubmittedWorkDone();
  } else {
    const until = performance.now() + spinMs;
    while (performance.now() < until) { /* the JS thread is busy: Dawn gets no event-loop turn */ }
  }
  await staging.mapAsync(1);
  const v = new Float32Array(staging.getMappedRange().slice(0))[1];
  staging.unmap();
  staging.destroy();
  if (mode !== 'destroy' && mode !== 'gc') { out?.destroy(); uni?.destroy(); }
  return v;
}

/** Pins the GPU object for the life of the process (the fix); unpinned, it is garbage the moment it returns. */
const pinned: GPU[] = [];

async function child(mode: Mode, rounds: number, ms: number, spinMs: number, keepGpu: boolean): Promise<void> {
  const { create } = await import('webgpu') as unknown as { create(flags: string[]): GPU };
  const gpu = (): GPU => {
    const g = create([]);
    if (keepGpu) pinned.push(g);
    return g;
  };
  const adapter = await gpu().requestAdapter();
  if (!adapter) throw new Error('no adapter');
  const device = await adapter.requestDevice();
  device.addEventListener('uncapturederror', (e) => console.error('uncaptured:', (e as GPUUncapturedErrorEvent).error.message));
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: SHADER }), entryPoint: 'main' } });
  // Calibrate the loop count so that one job takes about `ms` on this device.
  let iters = 1000;
  const t0 = performance.now();
  await round(device, pipeline, 'yielding', iters, 0);
  const per = Math.max(1e-3, (performance.now() - t0) / iters);
  iters = Math.max(1000, Math.round(ms / per));
  for (let r = 0; r < rounds; r++) await round(device, pipeline, mode, iters, spinMs);
  device.destroy();
  console.log(`mode ${mode}${keepGpu ? ' (GPU object kept)' : ''}: ${rounds} rounds of ~${ms} ms GPU jobs done`);
}

function matrix(perMode: number): void {
  const self = fileURLToPath(import.meta.url);
  for (const keep of [false, true]) for (const mode of MODES) {
    let clean = 0, crashed = 0, hung = 0;
    const notes: string[] = [];
    for (let i = 0; i < perMode; i++) {
      const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--mode', mode,
        '--rounds', arg('rounds', '10'), '--ms', arg('ms', '300'), '--spin', arg('spin', '400'), ...(keep ? ['--keep-gpu'] : [])],
      { encoding: 'utf8', timeout: Number(arg('timeout', '60')) * 1000 });
      if (r.error && /ETIMEDOUT/.test(String(r.error))) { hung++; notes.push('hang'); }
      else if (r.status === 0) clean++;
      else { crashed++; notes.push(r.signal ?? `exit ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-1)[0]}`); }
    }
    console.log(JSON.stringify({ mode, gpuObject: keep ? 'kept' : 'dropped', runs: perMode, clean, crashed, hung, notes: [...new Set(notes)] }));
  }
}

if (process.argv.includes('--matrix')) matrix(Number(arg('matrix', '10')));
else {
  await child(arg('mode', 'busy') as Mode, Number(arg('rounds', '10')), Number(arg('ms', '300')), Number(arg('spin', '400')),
    process.argv.includes('--keep-gpu'));
}
