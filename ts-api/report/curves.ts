/** Training curves as a small self-contained SVG: the loss per epoch and the evaluation Recall@20 / NDCG@20. */
import type { EpochRecord } from '../train.js';

interface Series { label: string; color: string; points: [number, number][] }

function panel(x0: number, title: string, series: Series[], w: number, h: number): string {
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) return `<text x="${x0 + w / 2}" y="${h / 2}" text-anchor="middle">${title}: no data</text>`;
  const [xmin, xmax] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  const [ymin, ymax] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  const pad = 40;
  const sx = (x: number) => x0 + pad + ((x - xmin) / Math.max(xmax - xmin, 1e-12)) * (w - 2 * pad);
  const sy = (y: number) => h - pad - ((y - ymin) / Math.max(ymax - ymin, 1e-12)) * (h - 2 * pad);
  const lines = series.filter((s) => s.points.length).map((s, i) => {
    const d = s.points.map(([x, y], k) => `${k ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`
      + `<text x="${x0 + w - pad}" y="${pad + 16 * i}" text-anchor="end" fill="${s.color}">${s.label}</text>`;
  }).join('');
  const axis = `<line x1="${x0 + pad}" y1="${h - pad}" x2="${x0 + w - pad}" y2="${h - pad}" stroke="#888"/>`
    + `<line x1="${x0 + pad}" y1="${pad}" x2="${x0 + pad}" y2="${h - pad}" stroke="#888"/>`
    + `<text x="${x0 + pad}" y="${h - pad + 16}">${xmin}</text><text x="${x0 + w - pad}" y="${h - pad + 16}" text-anchor="end">${xmax} epochs</text>`
    + `<text x="${x0 + pad - 4}" y="${sy(ymax) + 4}" text-anchor="end">${ymax.toPrecision(3)}</text>`
    + `<text x="${x0 + pad - 4}" y="${sy(ymin) + 4}" text-anchor="end">${ymin.toPrecision(3)}</text>`;
  return `<text x="${x0 + w / 2}" y="20" text-anchor="middle" font-weight="bold">${title}</text>${axis}${lines}`;
}

/** Two panels: total loss per epoch; Recall@20 and NDCG@20 at each evaluation (valid, or test under `reference`). */
export function curvesSvg(history: EpochRecord[]): string {
  const w = 480, h = 300;
  const evals = history.filter((r) => r.valid ?? r.test);
  const metric = (key: string): [number, number][] => evals.map((r) => [r.epoch, (r.valid ?? r.test)![key]]);
  const split = evals.some((r) => r.valid) ? 'valid' : 'test';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * w}" height="${h}" font-family="sans-serif" font-size="12">`
    + `<rect width="100%" height="100%" fill="white"/>`
    + panel(0, 'training loss', [{ label: 'loss', color: '#1f77b4', points: history.map((r) => [r.epoch, r.losses.total]) }], w, h)
    + panel(w, `${split} metrics`, [
      { label: 'Recall@20', color: '#d62728', points: metric('recall@20') },
      { label: 'NDCG@20', color: '#2ca02c', points: metric('ndcg@20') },
    ], w, h)
    + '</svg>\n';
}
