// Compressed sparse row index structures over interaction pairs: row r's columns are
// indices[indptr[r] .. indptr[r+1]), sorted ascending and free of duplicates.

export interface Csr {
  nRows: number;
  nCols: number;
  indptr: Int32Array;
  indices: Int32Array;
}

/** Builds a sorted, deduplicated CSR from parallel (row, col) arrays. */
export function buildCsr(rows: ArrayLike<number>, cols: ArrayLike<number>, nRows: number, nCols: number): Csr {
  const n = rows.length;
  if (cols.length !== n) throw new Error(`buildCsr: ${n} rows vs ${cols.length} cols`);
  const counts = new Int32Array(nRows + 1);
  for (let k = 0; k < n; k++) {
    const r = rows[k];
    const c = cols[k];
    if (!(r >= 0 && r < nRows) || !(c >= 0 && c < nCols)) throw new Error(`buildCsr: pair (${r}, ${c}) out of range ${nRows}x${nCols}`);
    counts[r + 1]++;
  }
  for (let r = 0; r < nRows; r++) counts[r + 1] += counts[r];
  const fill = counts.slice(0, nRows);
  const raw = new Int32Array(n);
  for (let k = 0; k < n; k++) raw[fill[rows[k]]++] = cols[k];
  // Sort each row, then compact out duplicates.
  const indptr = new Int32Array(nRows + 1);
  let w = 0;
  for (let r = 0; r < nRows; r++) {
    const seg = raw.subarray(counts[r], counts[r + 1]).sort();
    for (let k = 0; k < seg.length; k++) {
      if (k === 0 || seg[k] !== seg[k - 1]) raw[w++] = seg[k];
    }
    indptr[r + 1] = w;
  }
  return { nRows, nCols, indptr, indices: raw.slice(0, w) };
}

/** The transpose (column-major view as a new CSR); rows of the result stay sorted. */
export function transposeCsr(a: Csr): Csr {
  const indptr = new Int32Array(a.nCols + 1);
  for (let k = 0; k < a.indices.length; k++) indptr[a.indices[k] + 1]++;
  for (let c = 0; c < a.nCols; c++) indptr[c + 1] += indptr[c];
  const fill = indptr.slice(0, a.nCols);
  const indices = new Int32Array(a.indices.length);
  for (let r = 0; r < a.nRows; r++) {
    for (let k = a.indptr[r]; k < a.indptr[r + 1]; k++) indices[fill[a.indices[k]]++] = r;
  }
  return { nRows: a.nCols, nCols: a.nRows, indptr, indices };
}

/** Row r's sorted column ids (a view, not a copy). */
export function csrRow(a: Csr, r: number): Int32Array {
  return a.indices.subarray(a.indptr[r], a.indptr[r + 1]);
}

/** Number of stored entries in row r. */
export function csrRowLength(a: Csr, r: number): number {
  return a.indptr[r + 1] - a.indptr[r];
}

/** True if row r contains column c (binary search). */
export function csrHas(a: Csr, r: number, c: number): boolean {
  let lo = a.indptr[r];
  let hi = a.indptr[r + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = a.indices[mid];
    if (v === c) return true;
    if (v < c) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/** Per-user item lists (users × items) of a split given as parallel id arrays. */
export function userItemCsr(users: Int32Array, items: Int32Array, nUser: number, nItem: number): Csr {
  return buildCsr(users, items, nUser, nItem);
}

/** Per-item user lists (items × users) of a split given as parallel id arrays. */
export function itemUserCsr(users: Int32Array, items: Int32Array, nUser: number, nItem: number): Csr {
  return buildCsr(items, users, nItem, nUser);
}
