/**
 * Maps a model's class ids to a dataset's label ids through organ names (the card's `labels` and the dataset's
 * organ map), so a model trained with other ids still scores against the right organ.
 */
import type { OrganMap } from '../dataset/discover';
import { organKey } from '../dataset/organs';
import type { ModelCard } from '../model/card';

export interface LabelMapping {
  /** lut[modelClass] = dataset label id, 0 for classes that map to no organ of the dataset. */
  lut: Uint16Array;
  /** Model classes whose organ the dataset does not have (reported, not scored). */
  unmatched: string[];
}

export function mapModelClasses(card: ModelCard, organs: OrganMap): LabelMapping {
  const byName = new Map<string, number>();
  for (const [id, name] of organs.byId) byName.set(organKey(name), id);
  const maxClass = Math.max(0, ...Object.keys(card.labels).map(Number));
  const lut = new Uint16Array(maxClass + 1);
  const unmatched: string[] = [];
  for (const [cls, name] of Object.entries(card.labels)) {
    const id = byName.get(organKey(name));
    if (id === undefined) unmatched.push(name);
    else lut[Number(cls)] = id;
  }
  return { lut, unmatched };
}

export function applyMapping(classes: ArrayLike<number>, lut: Uint16Array): Uint8Array | Uint16Array {
  let max = 0;
  for (const v of lut) if (v > max) max = v;
  const out = max < 256 ? new Uint8Array(classes.length) : new Uint16Array(classes.length);
  for (let v = 0; v < classes.length; v++) {
    const c = classes[v];
    out[v] = c < lut.length ? lut[c] : 0;
  }
  return out;
}
