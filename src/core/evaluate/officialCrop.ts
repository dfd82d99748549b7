/**
 * The "official" crop of the SAM-Med3D family (card `crop: "official"`): its validation crops with torchio's
 * CropOrPad(mask_name="label"), which centres the 128^3 crop on the bounding box of the ground truth organ, and
 * then draws its click from the cropped label. This leaks where the organ is into the input; it exists to
 * reproduce published numbers, and run.json records it (RunManifest.prompting.crop).
 */
import { invert, multiply, voxelToWorld, type Grid, type WorldMm } from '../geometry/affine';
import { boxPrompt } from '../prompts/boxPrompt';

/**
 * The centre of the organ's tight bounding box on the labels' grid (the mean of its two corner voxel centres, in
 * world mm), or null when the organ is absent. torchio picks the crop's start in whole voxels of the resampled
 * grid, so its centre may sit up to half a crop voxel (0.75 mm at 1.5 mm) from this one.
 */
export function officialCropCentre(gt: Uint8Array, labels: Grid, organ: string): WorldMm | null {
  const box = boxPrompt(gt, labels, organ, 0, 0, '');
  if (!box) return null;
  return [0, 1, 2].map((a) => (box.minMm[a] + box.maxMm[a]) / 2) as unknown as WorldMm;
}

/**
 * The organ's voxels whose centres fall inside the crop (crop voxel coordinates in [-0.5, n - 0.5) along every
 * axis, i.e. inside the crop's outer faces): what SAM-Med3D draws its random click from under the official crop.
 * `gt` is 0/1 on `labels`' grid; the result is too.
 */
export function organInsideCrop(gt: Uint8Array, labels: Grid, crop: Grid): Uint8Array {
  const m = multiply(invert(crop.affine), labels.affine);
  const [n0, n1] = labels.dims;
  const out = new Uint8Array(gt.length);
  for (let v = 0; v < gt.length; v++) {
    if (!gt[v]) continue;
    const i = v % n0;
    const j = ((v - i) / n0) % n1;
    const k = (v - i - n0 * j) / (n0 * n1);
    const c = voxelToWorld(m, [i, j, k]);
    if (c.every((x, a) => x >= -0.5 && x < crop.dims[a] - 0.5)) out[v] = 1;
  }
  return out;
}
