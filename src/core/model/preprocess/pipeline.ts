/**
 * The card's preprocessing, in the order the model's own pipeline applies it, and its inverse for the
 * prediction: orientation (exact axis permutation/flips) -> resampling to card.spacing (trilinear, through the
 * affines) -> normalization -> crop/pad. The prediction returns through unpad -> nearest-neighbour resampling
 * onto the oriented image grid -> inverse orientation, landing voxel for voxel on the image's own grid.
 */
import { regrid } from '../../geometry/affine';
import { resampleLinear, resampleNearest } from '../../geometry/resample';
import type { ImageVolume, LabelVolume } from '../../geometry/volume';
import type { ModelCard, Normalization } from '../card/modelCard';
import { applyPointwise, normalizer, type Pointwise } from './normalize';
import { axisCodes, inverse, isIdentity, transformBetween, transformVolume } from './orientation';
import { isNoop, planPad, shiftWindow } from './padCrop';

export interface ModelInput {
  /**
   * Intensities on the grid the network sees (storage order, i fastest): normalized, or, when the caller deferred
   * it and `normalizeVoxel` is set, still to be normalized voxel by voxel with that function.
   */
  work: ImageVolume;
  normalizeVoxel?: Pointwise;
  /** Classes on `work`'s grid -> classes on the image's grid. */
  toImageGrid(classes: LabelVolume): LabelVolume;
}

/**
 * `deferNormalization`: return the (reoriented, resampled) intensities with `normalizeVoxel` instead of a normalized
 * copy, for a sliding window that normalizes each window as it cuts it. Not deferred when crop/pad applies (the
 * pad value is the normalized 0).
 */
export function toModelInput(image: ImageVolume, card: Pick<ModelCard, 'orientation' | 'spacing' | 'pad' | 'spatialOrder'>, normalization: Normalization, opts: { deferNormalization?: boolean } = {}): ModelInput {
  const given = card.orientation ? transformBetween(axisCodes(image.affine), card.orientation) : null;
  const turn = given && !isIdentity(given) ? given : null;
  const oriented = turn ? transformVolume(image, turn) : image;
  const resampled = card.spacing ? resampleLinear(oriented, regrid(oriented, card.spacing)) : oriented;
  // the card's pad sizes are in the tensor's spatial order; the volume here is (i, j, k)
  const toIjk = <T>(xs: readonly T[]): T[] => (card.spatialOrder === 'kji' ? [...xs].reverse() : [...xs]);
  const padSpec = card.pad && ('divisibleBy' in card.pad ? { divisibleBy: toIjk(card.pad.divisibleBy) as [number, number, number] } : { size: toIjk(card.pad.size) as [number, number, number] });
  const plan = padSpec ? planPad(resampled.dims, padSpec) : null;
  const padded = plan !== null && !isNoop(plan, resampled.dims);
  const defer = opts.deferNormalization === true && !padded;
  const pointwise = normalizer(resampled.data, normalization);
  const normalized: ImageVolume = defer ? resampled : { dims: resampled.dims, affine: resampled.affine, data: applyPointwise(resampled.data, pointwise) };
  const work = padded ? shiftWindow(normalized, plan.before, plan.dims) : normalized;
  return {
    work,
    normalizeVoxel: defer ? pointwise : undefined,
    toImageGrid(classes) {
      // voxels cropped away before inference come back as background (0)
      const unpadded = plan && work !== normalized ? shiftWindow(classes, plan.before.map((b) => -b), resampled.dims) : classes;
      const onOriented = card.spacing ? resampleNearest(unpadded, oriented) : unpadded;
      const back = turn ? transformVolume(onOriented, inverse(turn)) : onOriented;
      // the inverse permutation restores the image's affine up to float rounding: report the image's own
      return { dims: image.dims, affine: image.affine, data: back.data };
    },
  };
}
