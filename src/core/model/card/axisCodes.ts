/**
 * The axis codes a card's `orientation` is written in: nibabel's aff2axcodes letters, for each voxel axis the world
 * direction it points to in RAS+ space (R/L = x, A/P = y, S/I = z). In card/, not in
 * preprocess/orientation.ts (which reorients by them), so that validating a card needs nothing from preprocessing.
 */

export const LETTERS = [['R', 'L'], ['A', 'P'], ['S', 'I']] as const;

/** Whether `codes` is three letters naming x, y and z once each ("RAS", "LPI", "ASR", ...). */
export function isAxisCodes(codes: string): boolean {
  if (codes.length !== 3) return false;
  const axes = [...codes].map((c) => LETTERS.findIndex((pair) => (pair as readonly string[]).includes(c)));
  return axes.every((a) => a >= 0) && new Set(axes).size === 3;
}
