/**
 * Maps a model's class ids to a dataset's label ids through organ names (the card's `labels` and the dataset's
 * organ map), so a model trained with other ids, or other names, still scores against the right organ. Each
 * class name finds its organ by dataset/organMatch.ts (organMap, then name, then synonym).
 * Several classes may map to one organ (a model's lung lobes score as the lung): their union is the prediction.
 */
import type { OrganMap } from '../dataset/discover';
import { organMatcher, type MatchedBy } from '../dataset/organMatch';
import type { ModelCard } from '../model/card/modelCard';

export type { MatchedBy };

export interface LabelMapping {
  /** lut[modelClass] = dataset label id, 0 for classes that map to no organ of the dataset. */
  lut: Uint16Array;
  /** Model classes whose organ the dataset does not have (reported, not scored). */
  unmatched: string[];
  /** Classes the card's organMap sets to null (predicted, not scored). */
  excluded: string[];
  /** Every class that found an organ, and how. */
  matches: Array<{ modelClass: number; modelName: string; organ: string; by: MatchedBy }>;
}

export function mapModelClasses(card: Pick<ModelCard, 'labels' | 'organMap'>, organs: OrganMap): LabelMapping {
  const match = organMatcher(organs, card.organMap);
  const maxClass = Math.max(0, ...Object.keys(card.labels).map(Number));
  const lut = new Uint16Array(maxClass + 1);
  const mapping: LabelMapping = { lut, unmatched: [], excluded: [], matches: [] };
  for (const [cls, name] of Object.entries(card.labels)) {
    const hit = match(name);
    if (hit.kind === 'excluded') {
      mapping.excluded.push(name);
      continue;
    }
    if (hit.kind === 'unmatched') {
      mapping.unmatched.push(hit.reported);
      continue;
    }
    lut[Number(cls)] = hit.id;
    mapping.matches.push({ modelClass: Number(cls), modelName: name, organ: organs.byId.get(hit.id)!, by: hit.by });
  }
  return mapping;
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
