/** A minimal valid model card (tests patch the keys they exercise). */
export const baseCard = (): Record<string, unknown> => ({
  kind: 'semantic',
  inputs: { image: 'image' },
  outputs: { logits: 'logits' },
  patchSize: null,
  spatialOrder: 'kji',
  spacing: null,
  normalization: { '*': { method: 'none' } },
  labels: { '1': 'liver', '2': 'spleen' },
});
