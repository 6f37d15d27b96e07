// Minimal .npy reader/writer (format versions 1.0, 2.0 and 3.0; C order; little-endian float32, float64,
// int32, int64). int64 data is narrowed to Int32Array (ids and counts here all fit; overflow is an error).
import { readFileSync, writeFileSync } from 'node:fs';

export type NpyDtype = 'float32' | 'float64' | 'int32' | 'int64';
export type NpyData = Float32Array | Float64Array | Int32Array;

export interface NpyArray {
  shape: number[];
  dtype: NpyDtype;
  data: NpyData;
}

const DESCR_TO_DTYPE: Record<string, NpyDtype> = { '<f4': 'float32', '<f8': 'float64', '<i4': 'int32', '<i8': 'int64' };
const DTYPE_TO_DESCR: Record<NpyDtype, string> = { float32: '<f4', float64: '<f8', int32: '<i4', int64: '<i8' };
const ITEM_SIZE: Record<NpyDtype, number> = { float32: 4, float64: 8, int32: 4, int64: 8 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function parseHeader(header: string, name: string): { dtype: NpyDtype; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${name}: malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True') throw new Error(`${name}: Fortran-order .npy arrays are not supported (save C order)`);
  const dtype = DESCR_TO_DTYPE[descr];
  if (dtype === undefined) {
    throw new Error(`${name}: unsupported .npy dtype '${descr}' (supported: little-endian f4, f8, i4, i8)`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const v = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: bad .npy shape (${shapeText})`);
    return v;
  });
  return { dtype, shape };
}

/** Parses the bytes of a .npy file; `name` (usually the path) is used in error messages. */
export function parseNpy(bytes: Uint8Array, name = '<npy>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) throw new Error(`${name}: not a .npy file (bad magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${name}: truncated .npy header`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new Error(`${name}: unsupported .npy format version ${major}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new Error(`${name}: truncated .npy header`);
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + headerStart, headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const { dtype, shape } = parseHeader(header, name);
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * ITEM_SIZE[dtype];
  if (bytes.length - dataStart < need) {
    throw new Error(`${name}: truncated .npy data: shape (${shape.join(', ')}) needs ${need} bytes, file has ${bytes.length - dataStart}`);
  }
  // Copy into a fresh buffer: the payload offset is rarely aligned to the element size. (Not bytes.slice:
  // on a Node Buffer that is a view sharing the whole underlying buffer.)
  const payload = new ArrayBuffer(need);
  new Uint8Array(payload).set(bytes.subarray(dataStart, dataStart + need));
  let data: NpyData;
  if (dtype === 'float32') data = new Float32Array(payload);
  else if (dtype === 'float64') data = new Float64Array(payload);
  else if (dtype === 'int32') data = new Int32Array(payload);
  else {
    const wide = new BigInt64Array(payload);
    const narrow = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const v = wide[k];
      if (v > 2147483647n || v < -2147483648n) throw new Error(`${name}: int64 value ${v} at flat index ${k} does not fit in int32`);
      narrow[k] = Number(v);
    }
    data = narrow;
  }
  return { shape, dtype, data };
}

/** Reads a .npy file; errors name the file. */
export function readNpy(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}

/** Encodes an array as .npy bytes (version 1.0 header, or 2.0 when the header is too long). `dtype` defaults
 * from the data type; 'int64' widens Int32Array data. */
export function encodeNpy(data: NpyData, shape: number[], dtype?: NpyDtype): Uint8Array {
  const type: NpyDtype = dtype ?? (data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int32');
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape (${shape.join(', ')}) does not match ${data.length} elements`);
  const okType = type === 'float32' ? data instanceof Float32Array : type === 'float64' ? data instanceof Float64Array : data instanceof Int32Array;
  if (!okType) throw new Error(`encodeNpy: ${data.constructor.name} cannot be written as ${type}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DTYPE_TO_DESCR[type]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64; // header padded so the data is 64-byte aligned
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const header = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const payloadBytes = count * ITEM_SIZE[type];
  const out = new Uint8Array(total + payloadBytes);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), prefix);
  if (type === 'int64') {
    const wide = new BigInt64Array(count);
    for (let k = 0; k < count; k++) wide[k] = BigInt(data[k]);
    out.set(new Uint8Array(wide.buffer), total);
  } else {
    out.set(new Uint8Array(data.buffer, data.byteOffset, payloadBytes), total);
  }
  return out;
}

/** Writes an array to a .npy file (see encodeNpy). */
export function writeNpy(path: string, data: NpyData, shape: number[], dtype?: NpyDtype): void {
  writeFileSync(path, encodeNpy(data, shape, dtype));
}
