/** Public API of the model layer: load a checkpoint with its card, predict classes for an image. */
export type { ModelCard, Normalization, NormalizationMethod, ModalityKey, CardSource, ReportedScore } from './card/modelCard';
export { loadModel, predictClasses, checkPredictMemory, outputChannels, normalizationFor, type LoadedModel, type PredictOptions } from './predict';
export { estimatePredictMemory, checkMemory, defaultMaxMemoryGB, MemoryLimitError, type MemoryEstimate } from './memoryEstimate';
export { loadCard, validateCard, cardPathFor, CardError, type LoadedCard } from './card/loadCard';
export { resolveCard, ONNX_METADATA_KEY, type ResolvedCard } from './card/resolveCard';
export { readOnnxModelInfo, OnnxFormatError, type OnnxModelInfo } from './card/onnxProto';
export { ORGAN_SYNONYMS, umdOrganFor } from '../dataset/organSynonyms';
export { ModelError } from './session';
export { normalize, NormalizationError } from './preprocess/normalize';
export { slidingWindowLogits, slidingWindowClasses, wholeVolumeLogits, argmaxChannels, gaussianImportanceMap, scanInterval, windowStarts, mirrorCombinations, ttaMirrors, type MirrorAxis, type WindowOptions } from './inference';
