// Timing of the SPEC §2 metadata (sparse Jaccard) on Office and on a 50k-item synthetic catalogue.
// Usage: node --import tsx benchmarks/metadata.ts   (prints one JSON object)
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../ts-api/data/dataset.js';
import { generateSynthetic } from '../ts-api/data/synthetic.js';
import { computeMetadata } from '../ts-api/metadata.js';

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, Math.round(performance.now() - t0)];
}

const results: Record<string, unknown> = { node: process.version };
const office = fileURLToPath(new URL('../../shared/datasets/office', import.meta.url));
if (existsSync(office)) {
  const ds = loadDataset(office);
  const [, ms] = time(() => computeMetadata({
    nUser: ds.nUser, nItem: ds.nItem, users: ds.train.users, items: ds.train.items,
    uEmbedsPt: ds.uEmbedsPt!, iEmbedsPt: ds.iEmbedsPt!,
  }));
  results.office = { nUser: ds.nUser, nItem: ds.nItem, trainPairs: ds.train.users.length, metadataMs: ms };
}
const [syn, genMs] = time(() => generateSynthetic({ nUser: 30000, nItem: 50000, meanInteractions: 13.4, nCommunity: 50, seed: 1 }));
const all = {
  users: Int32Array.from([...syn.train.users, ...syn.valid.users, ...syn.test.users]),
  items: Int32Array.from([...syn.train.items, ...syn.valid.items, ...syn.test.items]),
};
const [, synMs] = time(() => computeMetadata({
  nUser: syn.nUser, nItem: syn.nItem, users: all.users, items: all.items,
  uEmbedsPt: syn.uEmbedsPt!, iEmbedsPt: syn.iEmbedsPt!,
}));
results.synthetic = { nUser: syn.nUser, nItem: syn.nItem, interactions: all.users.length, generateMs: genMs, metadataMs: synMs };
console.log(JSON.stringify(results));
