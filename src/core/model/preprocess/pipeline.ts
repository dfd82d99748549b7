/**
 * The card's preprocessing, in the order the model's own pipeline applies it, and its inverse for the
 * prediction: orientation (exact axis permutation/flips) -> resampling to card.spacing (trilinear, through the
 * affines; skipped when the card's spacing gives the image's own grid) -> normalization -> crop/pad. The
 * intensities keep the image's stored type until resampling (trilinear values are float32) or normalization
 * (float32) makes new ones: the statistics are the same either way (every stored integer is exact in float32). The prediction returns through unpad -> nearest-neighbour resampling
 * onto the oriented image grid -> inverse orientation, landing voxel for voxel on the image's own grid.
 */
import { regrid } from '../../geometry/affine';
import { resampleLinear, resampleNearest } from '../../geometry/resample';
import type { LabelVolume, StoredImageVolume } from '../../geometry/volume';
import type { ModelCard, Normalization } from '../card/modelCard';
import { applyPointwise, normalizer, type Pointwise } from './normalize';
import { axisCodes, inverse, isIdentity, transformBetween, transformVolume } from './orientation';
import { isNoop, planPad, shiftWindow } from './padCrop';

export interface ModelInput {
  /**
   * Intensities on the grid the network sees (storage order, i fastest): normalized (float32), or, when the caller
   * deferred it and `normalizeVoxel` is set, still to be normalized voxel by voxel with that function, in the
   * image's stored type (an int16 CT stays int16 through the axis permutation) unless resampling made them float32.
   */
  work: StoredImageVolume;
  normalizeVoxel?: Pointwise;
  /** Classes on `work`'s grid -> classes on the image's grid. */
  toImageGrid(classes: LabelVolume): LabelVolume;
}

/**
 * `deferNormalization`: return the (reoriented, resampled) intensities with `normalizeVoxel` instead of a normalized
 * copy, for a sliding window that normalizes each window as it cuts it. Not deferred when crop/pad applies (the
 * pad value is the normalized 0).
 */
export function toModelInput(image: StoredImageVolume, card: Pick<ModelCard, 'orientation' | 'spacing' | 'pad' | 'spatialOrder'>, normalization: Normalization, opts: { deferNormalization?: boolean } = {}): ModelInput {
  const given = card.orientation ? transformBetween(axisCodes(image.affine), card.orientation) : null;
  const turn = given && !isIdentity(given) ? given : null;
  const oriented = turn ? transformVolume(image, turn) : image;
  const target = card.spacing ? regrid(oriented, card.spacing) : null;
  // a card spacing equal to the image's: the grid is the image's own, nothing to interpolate (and no float32 copy)
  const resampled = target && !sameGrid(target, oriented) ? resampleLinear(oriented, target) : oriented;
  // the card's pad sizes are in the tensor's spatial order; the volume here is (i, j, k)
  const toIjk = <T>(xs: readonly T[]): T[] => (card.spatialOrder === 'kji' ? [...xs].reverse() : [...xs]);
  const padSpec = card.pad && ('divisibleBy' in card.pad ? { divisibleBy: toIjk(card.pad.divisibleBy) as [number, number, number] } : { size: toIjk(card.pad.size) as [number, number, number] });
  const plan = padSpec ? planPad(resampled.dims, padSpec) : null;
  const padded = plan !== null && !isNoop(plan, resampled.dims);
  const defer = opts.deferNormalization === true && !padded;
  const pointwise = normalizer(resampled.data, normalization);
  const normalized: StoredImageVolume = defer ? resampled : { dims: resampled.dims, affine: resampled.affine, data: applyPointwise(resampled.data, pointwise) };
  const work = padded ? shiftWindow(normalized, plan.before, plan.dims) : normalized;
  return {
    work,
    normalizeVoxel: defer ? pointwise : undefined,
    toImageGrid(classes) {
      // voxels cropped away before inference come back as background (0)
      const unpadded = plan && work !== normalized ? shiftWindow(classes, plan.before.map((b) => -b), resampled.dims) : classes;
      const onOriented = resampled !== oriented ? resampleNearest(unpadded, oriented) : unpadded;
      const back = turn ? transformVolume(onOriented, inverse(turn)) : onOriented;
      // the inverse permutation restores the image's affine up to float rounding: report the image's own
      return { dims: image.dims, affine: image.affine, data: back.data };
    },
  };
}

/** The same grid: dims equal, affines within 1e-6 mm (regrid of an image to its own spacing). */
function sameGrid(a: Pick<StoredImageVolume, 'dims' | 'affine'>, b: Pick<StoredImageVolume, 'dims' | 'affine'>): boolean {
  return a.dims.every((d, n) => d === b.dims[n]) && a.affine.every((x, n) => Math.abs(x - b.affine[n]) < 1e-6);
}
