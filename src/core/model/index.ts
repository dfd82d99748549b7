/** Public API of the model layer: load a checkpoint with its card, predict classes for an image. */
export type { ModelCard, Normalization, NormalizationMethod, ModalityKey, CardSource, ReportedScore } from './card';
export { loadModel, predictClasses, normalizationFor, type LoadedModel, type PredictOptions } from './predict';
export { loadCard, validateCard, cardPathFor, CardError, type LoadedCard } from './loadCard';
export { resolveCard, ONNX_METADATA_KEY, type ResolvedCard } from './resolveCard';
export { readOnnxModelInfo, OnnxFormatError, type OnnxModelInfo } from './onnxProto';
export { ORGAN_SYNONYMS, umdOrganFor } from '../dataset/organSynonyms';
export { ModelError } from './session';
export { normalize, NormalizationError } from './normalize';
export { slidingWindowLogits, slidingWindowClasses, wholeVolumeLogits, argmaxChannels, gaussianImportanceMap, scanInterval, windowStarts, mirrorCombinations, ttaMirrors, type MirrorAxis, type WindowOptions } from './slidingWindow';
