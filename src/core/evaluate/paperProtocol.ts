/**
 * How each organ of a run is asked for, decided once before any case runs and recorded in run.json
 * (RunManifest.prompting), and the UMD paper's protocol (`--protocol umd-paper`) as a named whole:
 *
 *   promptable models  one positive point per organ, drawn by the family's official rule (card `pointRule`:
 *                      "random" = a uniformly drawn voxel of the organ, SAM-Med3D's validation; "center" = the
 *                      interior point farthest from the boundary, the CVPR 2025 challenge's click; absent: "center",
 *                      recorded as the default), seeded by --prompt-seed (default 0); the crop centred as the card's
 *                      `crop` says ("prompt" default, "official" = the ground truth organ's bounding box);
 *   semantic models    no prompt: the class ids (card `classPrompt`) or text embeddings (`prompt.text`) are how the
 *                      card feeds them, recorded as such;
 *   metrics            Dice and NSD at 1 mm for every organ (metrics/protocol.ts "umd-paper"), no overrides.
 *
 * Combinations that would not be the paper's protocol are refused with the reason: a --prompt of its own (the
 * protocol sets the prompt), box jitter, an NSD tolerance override, a promptable card that takes no point.
 */
import type { ModelCard } from '../model/card/modelCard';
import type { PromptSpec } from '../prompts/promptSpec';
import type { RunPrompting } from '../runstore/schema';
import type { EvaluateOptions } from './evaluateApi';

export const PAPER_PROTOCOL = 'umd-paper';

/** A prompt spec as the --prompt text that asks for it. */
export function promptText(spec: PromptSpec): string {
  return spec.kind === 'clicks' ? `clicks:${spec.n}` : spec.kind;
}

/**
 * The prompting of a run of `card` with `opts`, and the warnings to log. Throws (naming the model file and the
 * option) on a combination the paper's protocol does not allow.
 */
export function resolvePrompting(opts: Pick<EvaluateOptions, 'protocol' | 'prompt' | 'promptSeed' | 'boxJitterMm' | 'toleranceOverrides'>, card: ModelCard, modelPath: string): { prompting: RunPrompting; warnings: string[] } {
  const paper = opts.protocol === PAPER_PROTOCOL;
  const warnings: string[] = [];
  const refuse = (why: string): never => {
    throw new Error(`--protocol ${PAPER_PROTOCOL} (${modelPath}): ${why}`);
  };
  if (paper) {
    if (opts.prompt) refuse(`the protocol gives every promptable model one point per organ by its card's pointRule; --prompt ${promptText(opts.prompt)} asks for another protocol (drop one of the two)`);
    if ((opts.boxJitterMm ?? 0) !== 0) refuse(`the protocol prompts with one point, never a box; --box-jitter-mm ${opts.boxJitterMm} does not apply`);
    const overridden = (opts.toleranceOverrides ?? []).filter(([, o]) => o && Object.keys(o).length > 0).map(([source]) => source);
    if (overridden.length) refuse(`the protocol scores NSD at 1 mm for every organ; the NSD tolerance override from the ${overridden.join(' and the ')} (--tau, umdLens.metrics.toleranceMm) is another protocol`);
    if (card.nsdToleranceMm) warnings.push(`--protocol ${PAPER_PROTOCOL}: the card's nsdToleranceMm is not applied (the protocol scores NSD at 1 mm for every organ)`);
  }
  const protocol = paper ? PAPER_PROTOCOL : null;
  if (card.kind !== 'promptable') {
    const classes = card.classPrompt ? 'class-id' : card.prompt?.text ? 'text' : 'all';
    return { prompting: { model: 'semantic', protocol, classes }, warnings };
  }
  const crop = card.crop ?? 'prompt';
  if (crop === 'official') warnings.push(`crop "official": each organ's crop is centred on its ground truth bounding box (the family's official crop); this leaks the answer's position into the input`);
  const seed = opts.promptSeed ?? 0;
  if (!paper) {
    return { prompting: { model: 'promptable', protocol, prompt: opts.prompt ?? { kind: 'center' }, seed, boxJitterMm: opts.boxJitterMm ?? 0, crop }, warnings };
  }
  const takesPoint = !!card.prompt?.points || !!card.prompt?.channels?.includes('positive');
  if (!takesPoint) refuse('the card takes no point (its prompt has neither "points" nor a "positive" channel), and the protocol prompts interactive models with one point');
  const rule = card.pointRule ?? 'center';
  if (!card.pointRule) warnings.push(`--protocol ${PAPER_PROTOCOL}: the card declares no pointRule; its one point per organ is the "center" point (the interior point farthest from the boundary)`);
  return {
    prompting: {
      model: 'promptable', protocol, prompt: { kind: rule }, seed, boxJitterMm: 0,
      pointRule: { rule, source: card.pointRule ? 'card' : 'default' }, crop,
    },
    warnings,
  };
}
