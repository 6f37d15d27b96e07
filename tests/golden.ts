// Reader for the reference fixtures in <repo>/../shared/golden (format: see that folder's README).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the shared golden fixture folder. */
export const goldenDir = fileURLToPath(new URL('../../shared/golden/', import.meta.url));

export type GoldenDtype = 'f32' | 'f64' | 'i32';

export interface GoldenTensor {
  shape: number[];
  dtype: GoldenDtype;
  data: Float32Array | Float64Array | Int32Array;
}

export interface GoldenCase {
  config: Record<string, unknown>;
  scalars: Record<string, number>;
  tensors: Record<string, GoldenTensor>;
}

const WIDTH: Record<GoldenDtype, number> = { f32: 4, f64: 8, i32: 4 };

function decode(dtype: GoldenDtype, b64: string): GoldenTensor['data'] {
  const raw = Buffer.from(b64, 'base64');
  const width = WIDTH[dtype];
  if (width === undefined) throw new Error(`golden: unsupported dtype ${dtype}`);
  // Copy into a fresh ArrayBuffer: Buffer.from may return an unaligned slice of Node's shared pool.
  const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  if (buf.byteLength % width !== 0) throw new Error(`golden: ${buf.byteLength} bytes is not a whole number of ${dtype}`);
  if (dtype === 'f32') return new Float32Array(buf);
  if (dtype === 'f64') return new Float64Array(buf);
  return new Int32Array(buf);
}

/** Loads golden case `name` (file `<name>.json`), decoding every tensor into a typed array. */
export function loadGolden(name: string): GoldenCase {
  const json = JSON.parse(readFileSync(join(goldenDir, `${name}.json`), 'utf8')) as {
    config?: Record<string, unknown>;
    scalars?: Record<string, number>;
    tensors?: Record<string, { shape: number[]; dtype: GoldenDtype; b64: string }>;
  };
  const tensors: Record<string, GoldenTensor> = {};
  for (const [key, t] of Object.entries(json.tensors ?? {})) {
    tensors[key] = { shape: t.shape, dtype: t.dtype, data: decode(t.dtype, t.b64) };
  }
  return { config: json.config ?? {}, scalars: json.scalars ?? {}, tensors };
}
