// Raw-id lookup shared by training and serving (no Node imports, so edge bundles can use it).

/** Dense id of `raw` in the ascending raw-id table (dense id → raw id), or -1 when unknown. */
export function denseIdOf(table: Int32Array, raw: number): number {
  let lo = 0;
  let hi = table.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (table[mid] < raw) lo = mid + 1;
    else hi = mid;
  }
  return lo < table.length && table[lo] === raw ? lo : -1;
}
