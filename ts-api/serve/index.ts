/**
 * Serverless serving: a recommender built from artifact bytes and a fetch-style handler. Runtime-neutral
 * (no Node imports); Node's http adapter is serve/node.ts.
 *
 * @example
 * import { createRecommender, createHandler } from './ts-api/serve/index.js';
 * export default { fetch: createHandler(await createRecommender(artifactBytes)) };
 */
export { createRecommender, recommenderFromArtifact, RecommendError, MAX_K, type Recommender, type RecommendOptions, type Scored } from './recommender.js';
export { createHandler, MAX_BODY } from './handler.js';
