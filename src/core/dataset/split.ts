/**
 * A seeded train/test split of a dataset's subjects, for the supervised reference of the UMD paper (an nnU-Net
 * trained on 10 cases; docs/foundation-models.md "nnU-Net reference"). Subjects, not scans, are split: a
 * subject's CT, MRI and PET are one person, so none of a training subject's scans may be scored.
 *
 * The draw: the subjects sorted by name (code units), a Fisher-Yates shuffle driven by
 * Rng(hashSeed(seed, "split")), the first `train` of the shuffle; both lists are returned sorted by name. The same
 * subjects and seed give the same split on any machine; adding a subject to the dataset may change it.
 */
import { hashSeed, Rng } from '../random/rng';

export interface SubjectSplit {
  seed: number;
  train: string[];
  test: string[];
}

/** Splits `subjects` (duplicates ignored) into `train` training subjects and the rest. Throws when too few. */
export function splitSubjects(subjects: readonly string[], train: number, seed: number): SubjectSplit {
  const all = [...new Set(subjects)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (!Number.isInteger(train) || train < 1) throw new Error(`split: the number of training subjects must be a positive integer (got ${train})`);
  if (train >= all.length) throw new Error(`split: ${train} training subjects asked, the dataset has ${all.length}: none would be left to evaluate`);
  const rng = new Rng(hashSeed(seed, 'split'));
  const order = all.slice();
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const chosen = new Set(order.slice(0, train));
  return { seed, train: all.filter((s) => chosen.has(s)), test: all.filter((s) => !chosen.has(s)) };
}
