/** Public API of the model layer: load a checkpoint with its card, predict classes for an image. */
export type { ModelCard, Normalization, NormalizationMethod, ModalityKey } from './card';
export { loadModel, predictClasses, normalizationFor, type LoadedModel, type PredictOptions } from './predict';
export { loadCard, validateCard, cardPathFor, CardError, type LoadedCard } from './loadCard';
export { ModelError } from './session';
export { normalize, NormalizationError } from './normalize';
export { slidingWindowLogits, wholeVolumeLogits, argmaxChannels, gaussianImportanceMap, scanInterval, windowStarts } from './slidingWindow';
