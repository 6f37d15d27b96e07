/**
 * The container shared by checkpoints and serving artifacts: a 24-byte header, then a MessagePack payload
 * (msgpackr, typed arrays kept as typed arrays).
 *
 *   0  "IDCL"   4  kind ('C' checkpoint, 'A' artifact)   5  3 zero bytes   8  u32 format version
 *   12 u32 CRC-32 of the payload   16 u64 payload length (little-endian throughout)
 *
 * Reading never trusts the bytes: the header is checked against the file length and the checksum before
 * anything is decoded, then the payload's MessagePack structure is walked (every declared length must fit
 * in the bytes that remain, nesting is bounded, the only extension allowed is a typed array) before
 * msgpackr sees it. Callers then check every field's type and shape (validate.ts).
 * No Node imports: this runs in edge runtimes too.
 *
 * @example
 * const bytes = encodeContainer('A', { users: new Float32Array(8) });
 * const payload = decodeContainer(bytes, 'A');   // { users: Float32Array(8) }
 */
import { Packr } from 'msgpackr';

export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 24;
export type ContainerKind = 'C' | 'A';
export const KIND_NAMES: Record<ContainerKind, string> = { C: 'checkpoint', A: 'serving artifact' };

/** A file that is not a valid checkpoint or artifact; the message says what is wrong. */
export class FormatError extends Error {}

// useRecords: false keeps the payload plain MessagePack (records would generate code with new Function).
const packr = new Packr({ moreTypes: true, useRecords: false, mapsAsObjects: true });

// Slicing-by-8 tables: T[k][b] is the CRC of byte b followed by k zero bytes.
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  return t;
})();

/** CRC-32 (IEEE, as zlib) of `bytes`, eight bytes per step. */
export function crc32(bytes: Uint8Array): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  for (const end8 = bytes.length - 7; i < end8; i += 8) {
    const lo = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    c = t[1792 + (lo & 0xff)] ^ t[1536 + ((lo >>> 8) & 0xff)] ^ t[1280 + ((lo >>> 16) & 0xff)] ^ t[1024 + (lo >>> 24)]
      ^ t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function encodeContainer(kind: ContainerKind, payload: unknown): Uint8Array {
  const body = packr.pack(payload);
  const out = new Uint8Array(HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x44, 0x43, 0x4c, kind.charCodeAt(0)]);   // "IDCL" + kind
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, crc32(body), true);
  view.setBigUint64(16, BigInt(body.length), true);
  out.set(body, HEADER_BYTES);
  return out;
}

export interface Header { kind: ContainerKind; version: number; crc: number; payloadBytes: number }

/** Reads and checks the header alone (magic, kind, version, length against the file length). */
export function readHeader(bytes: Uint8Array): Header {
  if (!(bytes instanceof Uint8Array)) throw new FormatError('expected the file contents as bytes');
  if (bytes.length < HEADER_BYTES) throw new FormatError(`file too short (${bytes.length} bytes) to be an infodcl checkpoint or artifact`);
  if (bytes[0] !== 0x49 || bytes[1] !== 0x44 || bytes[2] !== 0x43 || bytes[3] !== 0x4c) {
    throw new FormatError('not an infodcl checkpoint or artifact (bad magic bytes)');
  }
  const k = String.fromCharCode(bytes[4]);
  if (k !== 'C' && k !== 'A') throw new FormatError(`unknown container kind byte 0x${bytes[4].toString(16)}`);
  if (bytes[5] | bytes[6] | bytes[7]) throw new FormatError('corrupt header (reserved bytes are not zero)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) {
    throw new FormatError(`unsupported format version ${version} (this build reads version ${FORMAT_VERSION})`);
  }
  const declared = view.getBigUint64(16, true);
  const actual = bytes.length - HEADER_BYTES;
  if (declared !== BigInt(actual)) {
    throw new FormatError(declared > BigInt(actual)
      ? `truncated file: the header declares ${declared} payload bytes, the file has ${actual}`
      : `trailing bytes: the header declares ${declared} payload bytes, the file has ${actual}`);
  }
  return { kind: k, version, crc: view.getUint32(12, true), payloadBytes: actual };
}

/** Checks the header, checksum and structure, then decodes the payload of a container of `kind`. */
export function decodeContainer(bytes: Uint8Array, kind: ContainerKind): unknown {
  const h = readHeader(bytes);
  if (h.kind !== kind) throw new FormatError(`this is a ${KIND_NAMES[h.kind]}, expected a ${KIND_NAMES[kind]}`);
  const body = bytes.subarray(HEADER_BYTES);
  if (crc32(body) !== h.crc) throw new FormatError('checksum mismatch: the file is corrupted');
  scanMessagePack(body);
  try {
    return packr.unpack(body);
  } catch (e) {
    throw new FormatError(`cannot decode the payload: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// Typed-array codes of msgpackr's extension 0x74 that a payload may hold, with their element sizes.
const TYPED_CODES: Record<number, number> = { 1: 1, 5: 4, 7: 4, 8: 8 };   // Uint8, Int32, Float32, Float64
const MAX_DEPTH = 32;

/**
 * Walks one MessagePack value tree and throws unless it is exactly `bytes` long, every declared length fits
 * in what remains, nesting stays within MAX_DEPTH, and extensions are typed arrays of a known element type
 * and whole length. After this, decoding cannot allocate more than a small multiple of the input.
 */
export function scanMessagePack(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let pos = 0;
  const need = (n: number) => {
    if (n > end - pos) throw new FormatError(`corrupt payload: a value at byte ${pos} declares ${n} bytes, ${end - pos} remain`);
  };
  const u8 = () => { need(1); return bytes[pos++]; };
  const len = (width: number) => {
    need(width);
    const n = width === 1 ? bytes[pos] : width === 2 ? view.getUint16(pos) : view.getUint32(pos);
    pos += width;
    return n;
  };
  const skip = (n: number) => { need(n); pos += n; };
  const ext = (size: number) => {
    const type = u8();
    if (type !== 0x74 || size < 1) throw new FormatError(`corrupt payload: unsupported extension type ${type} at byte ${pos - 1}`);
    need(size);
    const width = TYPED_CODES[bytes[pos]];
    if (!width || (size - 1) % width !== 0) throw new FormatError(`corrupt payload: bad typed array at byte ${pos}`);
    pos += size;
  };
  // Iterative walk: `pending` counts the values still to read at each open level.
  const pending: number[] = [1];
  while (pending.length) {
    if (pending[pending.length - 1] === 0) { pending.pop(); continue; }
    pending[pending.length - 1]--;
    const t = u8();
    let children = 0;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) continue;   // fixint, nil, bool
    if (t >= 0xa0 && t <= 0xbf) { skip(t & 0x1f); continue; }   // fixstr
    if (t >= 0x80 && t <= 0x8f) children = 2 * (t & 0x0f);   // fixmap
    else if (t >= 0x90 && t <= 0x9f) children = t & 0x0f;   // fixarray
    else {
      switch (t) {
        case 0xc4: case 0xd9: skip(len(1)); continue;   // bin8, str8
        case 0xc5: case 0xda: skip(len(2)); continue;
        case 0xc6: case 0xdb: skip(len(4)); continue;
        case 0xcc: case 0xd0: skip(1); continue;   // (u)int8
        case 0xcd: case 0xd1: skip(2); continue;
        case 0xce: case 0xd2: case 0xca: skip(4); continue;   // (u)int32, float32
        case 0xcf: case 0xd3: case 0xcb: skip(8); continue;   // (u)int64, float64
        case 0xd4: ext(1); continue;
        case 0xd5: ext(2); continue;
        case 0xd6: ext(4); continue;
        case 0xd7: ext(8); continue;
        case 0xd8: ext(16); continue;
        case 0xc7: ext(len(1)); continue;
        case 0xc8: ext(len(2)); continue;
        case 0xc9: ext(len(4)); continue;
        case 0xdc: children = len(2); break;   // array16
        case 0xdd: children = len(4); break;
        case 0xde: children = 2 * len(2); break;   // map16
        case 0xdf: children = 2 * len(4); break;
        default: throw new FormatError(`corrupt payload: invalid MessagePack byte 0x${t.toString(16)} at ${pos - 1}`);
      }
    }
    // Every child takes at least one byte, so a count larger than the bytes left is a lie.
    need(children);
    if (children > 0) {
      if (pending.length >= MAX_DEPTH) throw new FormatError(`corrupt payload: nesting deeper than ${MAX_DEPTH}`);
      pending.push(children);
    }
  }
  if (pos !== end) throw new FormatError(`corrupt payload: ${end - pos} bytes after the end of the value`);
}
