/** Prompts made from the ground truth for promptable models: one module per prompt kind. */
export { centerPoint, farthestInteriorOffset } from './centerPoint';
export { randomPoint } from './randomPoint';
export { boxPrompt, type PromptBox } from './boxPrompt';
export { nextClick, runClicks, clickAuc, type ClickScore } from './clicks';
export { largestComponent } from './components';
export { parsePromptArg, type PromptSpec } from './promptSpec';
export type { PromptPoint } from './promptPoint';
