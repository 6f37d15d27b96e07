// Bit-exact emulation of numpy's float32 power on x86-64 with AVX-512 (Intel SVML __svml_powf16, "la"
// variant, as vendored by numpy), used for the reference's D^-1/2 = np.power(deg, -0.5) in float32.
// Neither fround(1/sqrt(d)) nor the correctly rounded d^-0.5 reproduces it: SVML's result is off by up to
// ~0.8 ulp and decides 1/3 of Office's adjacency values. Each step below is one float32 instruction with
// its rounding mode; exact double-double intermediates make the rounding exact. vrcp14ps is replaced by
// the exact reciprocal (it is only used rounded to 5 fraction bits), which can pick the neighbouring table
// entry when 1/m lies within ~2^-13 of a grid midpoint: verified equal to numpy for every integer x in
// 1..2,000,000 with y = -0.5 (the use here); on random float32 x about 2 in 100,000 results differ by an
// ulp. Domain: x a positive normal float32, |y·log2 x| < 126 (numpy special-cases y = 0.5 as sqrt).
type Rounding = 'rn' | 'rz' | 'rd';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fromBits = (b: number): number => { u32[0] = b >>> 0; return f32[0]; };
const toBits = (f: number): number => { f32[0] = f; return u32[0]; };

function nextDown(f: number): number {
  if (f === 0) return -fromBits(1);
  return fromBits(f > 0 ? toBits(f) - 1 : toBits(f) + 1);
}
const nextUp = (f: number): number => -nextDown(-f);

/** Rounds the exact value s + e (|e| <= ulp(s)/2, as from twoSum) to float32 in the given mode. */
function round32(s: number, e: number, mode: Rounding): number {
  const f = Math.fround(s);
  if (mode === 'rn') {
    if (f === s || e === 0) return f;
    const lo = f < s ? f : nextDown(f);
    const hi = f < s ? nextUp(f) : f;
    return (lo + hi) / 2 === s ? (e > 0 ? hi : lo) : f; // only a midpoint s is decided by e
  }
  const d = f - s; // exact; f > s + e  <=>  d > e
  if (mode === 'rd' || s > 0 || (s === 0 && e > 0)) return d > e ? nextDown(f) : f;
  return d < e ? nextUp(f) : f; // round toward zero for negative values
}

function add(a: number, b: number, mode: Rounding = 'rn'): number {
  const s = a + b;
  const bb = s - a;
  return round32(s, (a - (s - bb)) + (b - bb), mode); // twoSum
}
const sub = (a: number, b: number, mode: Rounding = 'rn') => add(a, -b, mode);
const mul = (a: number, b: number, mode: Rounding = 'rn') => round32(a * b, 0, mode); // 24x24 bits: exact in double
const fma = (a: number, b: number, c: number, mode: Rounding = 'rn') => add(a * b, c, mode);

// __svml_spow_data_internal_avx512 (float32 bit patterns).
const LOG_HI = [0, 3174420480, 3182632960, 3187958784, 3190685696, 3193338880, 3195920384, 3197247488, 3198473216,
  3199668736, 3200835072, 3201974272, 3203086848, 3204174848, 3204843520, 3205364224, 1054113792, 1053115392,
  1052137472, 1051179008, 1050238976, 1049316864, 1048248320, 1046471680, 1044726784, 1043013632, 1041329152,
  1039161344, 1035907072, 1032706048, 1027317760, 1018830848].map(fromBits);
const LOG_LO = [0, 3067311503, 890262383, 916311190, 3058814943, 914835756, 3056977939, 3052757441, 905348701,
  921801496, 900652061, 916473404, 3063873943, 3048020321, 3055557319, 921573027, 3050426335, 918574590, 913737309,
  3045697063, 3029223305, 866568163, 3063765991, 3057827840, 910185982, 3062847489, 917965485, 903301016, 882039287,
  910858241, 3059117133, 3029061382].map(fromBits);
const EXP2_TAB = [1065353216, 1065724611, 1066112450, 1066517459, 1066940400, 1067382066, 1067843287, 1068324927,
  1068827891, 1069353124, 1069901610, 1070474380, 1071072509, 1071697119, 1072349383, 1073030525].map(fromBits);
const [L4, L3, L2, L1, L0, LOG2E, SHIFTER, E3, E2, E1] = [1049872133, 3199775725, 1056323663, 3208161851, 849703116,
  1069066811, 1228933104, 1030247627, 1047916908, 1060205090].map(fromBits);

/** numpy's float32 x**y on AVX-512 machines (see the file comment for the domain). */
export function numpyPowf32(x: number, y: number): number {
  const bx = toBits(Math.fround(x));
  y = Math.fround(y);
  // log2(x) as high + low parts: x = 2^(E+1)·m, m in [0.5, 1); S ≈ 1/m on a 1/32 grid; R = S·m − 1.
  const m = fromBits((bx & 0x7fffff) | (126 << 23));
  const S = Math.round((1 / m) * 32) / 32;
  const R = fma(S, m, -1);
  const E = ((bx >>> 23) & 0xff) - 127 + (S < 1.5 ? 1 : 0);
  const idx = (toBits(S) >>> 18) & 31;
  const base = add(LOG_HI[idx], E);
  const polyLow = fma(fma(fma(fma(L4, R, L3), R, L2), R, L1), R, L0);
  const high1 = fma(LOG2E, R, base);
  let low = fma(polyLow, R, LOG_LO[idx]);
  const rLog2eHi = sub(high1, base);
  const high = add(high1, low);
  const rLog2eLo = fma(LOG2E, R, -rLog2eHi);
  low = add(sub(low, sub(high, high1)), rLog2eLo);
  // Z = y·log2(x) in two parts (round toward zero, as SVML does to avoid spurious overflow).
  const yHigh = mul(high, y, 'rz');
  const zLow = fma(y, low, fma(y, high, -yHigh, 'rz'), 'rz');
  const Z = add(yHigh, zLow, 'rz');
  // exp2(Z) = 2^floor(Z) · 2^(j/16) · 2^r.
  const shifted = toBits(add(Z, SHIFTER, 'rd'));
  const r = add(Z - Math.floor(Z * 16) / 16, sub(zLow, sub(Z, yHigh)));
  const t = EXP2_TAB[shifted & 15];
  const scale = fromBits((shifted << 19) & 0x7f800000);
  const q = fma(mul(r, t), fma(r, fma(E3, r, E2), E1), t);
  return mul(q, scale);
}
