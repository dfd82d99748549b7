/**
 * The two card fields that say how a promptable model's family is evaluated officially: `crop` (where the crop is
 * centred) and `pointRule` (how its one simulated point is drawn under `--protocol umd-paper`). Both belong to
 * promptable models only; a semantic card carrying them gets a warning and they are dropped.
 */
import type { ModelCard, PointRule } from './modelCard';
import { show } from './jsonChecks';

const CROPS = ['prompt', 'official'] as const;
const POINT_RULES: readonly PointRule[] = ['random', 'center'];

/** Checks `crop` and `pointRule` (pushes to `errors`/`warnings`); returns the typed fields that apply. */
export function checkCropRule(raw: Record<string, unknown>, errors: string[], warnings: string[], name: string): Pick<ModelCard, 'crop' | 'pointRule'> {
  const out: Pick<ModelCard, 'crop' | 'pointRule'> = {};
  if (raw.crop !== undefined) {
    if ((CROPS as readonly unknown[]).includes(raw.crop)) out.crop = raw.crop as ModelCard['crop'];
    else errors.push(`crop must be "prompt" (the crop centred on the prompt) or "official" (centred on the ground truth organ's bounding box, SAM-Med3D's CropOrPad(mask_name="label")) (got ${show(raw.crop)})`);
  }
  if (raw.pointRule !== undefined) {
    if ((POINT_RULES as readonly unknown[]).includes(raw.pointRule)) out.pointRule = raw.pointRule as PointRule;
    else errors.push(`pointRule must be "random" (a uniformly drawn organ voxel, SAM-Med3D's validation) or "center" (the interior point farthest from the boundary) (got ${show(raw.pointRule)})`);
  }
  if (raw.kind !== 'promptable') {
    for (const k of ['crop', 'pointRule'] as const) {
      if (out[k] !== undefined) {
        warnings.push(`${name}: ${k} is ignored for a semantic model (kind "promptable" reads it)`);
        delete out[k];
      }
    }
  }
  return out;
}
