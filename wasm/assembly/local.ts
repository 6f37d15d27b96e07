// Per-thread scratch. Every thread runs its own instance of this module over one shared memory; globals
// belong to the instance, memory to all. So the small tiles that the kernels would otherwise keep in
// static memory live in a block that the host hands each instance once (setLocal), LOCAL_BYTES long.
export const LOCAL_BYTES: i32 = 640;

export let MM_TILE: usize = 0; // matmul's MR×NR output tile (160 bytes)
export let CE_TILE: usize = 0; // the fused cross-entropy's (160)
export let GRAM_TILE: usize = 0; // gramF64's 16 f64 (128)
export let PHILOX_WORDS: usize = 0; // one Philox block (16)
export let ROW_TAIL: usize = 0; // the row kernels' zero-padded last vector (16)
export let TAIL_X: usize = 0; // the elementwise kernels' last vectors (16 each)
export let TAIL_G: usize = 0;
export let PHILOX_BLOCKS8: usize = 0; // eight Philox blocks' words in stream order (128)

/** Points this instance's scratch at p (16-aligned, LOCAL_BYTES long, used by no other instance). */
export function setLocal(p: usize): void {
  MM_TILE = p; CE_TILE = p + 160; GRAM_TILE = p + 320; PHILOX_WORDS = p + 448; ROW_TAIL = p + 464;
  TAIL_X = p + 480; TAIL_G = p + 496; PHILOX_BLOCKS8 = p + 512;
}
