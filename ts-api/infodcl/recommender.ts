/** InfoDCL wired to a dataset: metadata guides, the model, and LightGCN propagation for ranking. */
import { keep, type Random, type Tensor, tensor, CsrMatrix } from '../../engine/index.js';
import type { Dataset } from '../data/dataset.js';
import { spectralEmbeddings } from '../data/spectral.js';
import { propagate, trainGraph } from '../eval/evaluate.js';
import { computeMetadata, type AuxMetadata } from '../metadata.js';
import type { Recommender } from '../train.js';
import type { InfoDclConfig } from './config.js';
import { InfoDCL, type Batch } from './model.js';

export class InfoDclRecommender implements Recommender {
  readonly name = 'InfoDCL';

  private constructor(readonly model: InfoDCL, readonly guides: Tensor[], readonly graph: CsrMatrix, readonly metadata: AuxMetadata) {}

  /**
   * Computes the metadata (from the dataset's pretrained vectors, or a spectral stand-in, said via `log`),
   * uploads one guide table per channel and builds the model from `rng`.
   */
  static async create(ds: Dataset, config: InfoDclConfig, rng: Random, log: (m: string) => void = () => {}): Promise<InfoDclRecommender> {
    let { uEmbedsPt, iEmbedsPt } = ds;
    if (!uEmbedsPt || !iEmbedsPt || ds.embedDim !== config.dim) {
      log(`no ${config.dim}-d pretrained vectors in ${ds.name}: using a spectral embedding of the train graph instead`);
      const s = await spectralEmbeddings(ds.nUser, ds.nItem, ds.train, config.dim, config.seed);
      [uEmbedsPt, iEmbedsPt] = [s.users, s.items];
    }
    const metadata = computeMetadata({
      nUser: ds.nUser, nItem: ds.nItem, users: ds.train.users, items: ds.train.items, uEmbedsPt, iEmbedsPt, dim: config.dim,
    });
    const guides = config.channels.map((c) =>
      keep(tensor(c === 'knowledge' ? metadata.itemKnowledge : metadata.itemSocial, [ds.nItem, config.dim])));
    const model = new InfoDCL(ds.nUser, ds.nItem, config, rng);
    return new InfoDclRecommender(model, guides, trainGraph(ds), metadata);
  }

  parameters(): Tensor[] {
    return this.model.parameters();
  }

  async batchLoss(batch: Batch, rng: Random) {
    const noise = this.model.drawNoise(batch.pos.length, rng);
    const l = await this.model.losses(batch, noise, this.guides, true, rng);
    const terms: Record<string, Tensor> & { total: Tensor } = { total: l.total, bpr: l.bpr, reg: l.reg, bal: l.bal };
    l.recon.forEach((t, k) => { terms[`recon${k + 1}`] = t; });
    l.ssl.forEach((t, k) => { terms[`ssl${k + 1}`] = t; });
    return terms;
  }

  representations(): { users: Tensor; items: Tensor } {
    return propagate(this.model.uEmb.weight, this.model.iEmb.weight, this.graph, this.model.config.layers);
  }

  dispose(): void {
    this.model.dispose();
    this.guides.forEach((g) => g.dispose());
    this.graph.dispose();
  }
}
