/** What the rest of the model layer (and benchmarks, tests) use of inference: the runs, their grid, their types. */
export type { IntensityArray, Logits, MirrorAxis, ProbabilitySink, RunPatch, Shape3, SourceVolume, WindowOptions, WindowTimings } from './types';
export { slidingWindowClasses, slidingWindowLogits, slidingWindowSweep } from './slidingWindow';
export { wholeVolumeLogits } from './wholeVolume';
export { argmaxChannels, probabilitySlabs } from './classesAndProbabilities';
export { scanInterval, windowStarts } from './windowGrid';
export { gaussianImportanceMap } from './importanceMap';
export { mirrorCombinations, ttaMirrors } from './mirroring';
