/**
 * Maps a model's class ids to a dataset's label ids through organ names (the card's `labels` and the dataset's
 * organ map), so a model trained with other ids, or other names, still scores against the right organ.
 *
 * A class finds its organ, first match wins:
 *   1. organMap  the card's explicit {"model name": "dataset organ" | null}; null leaves the class unscored
 *   2. name      its own name equals a dataset organ's (case and "_"/"-" insensitive)
 *   3. synonym   both names stand for the same UMD organ in the synonym table (organSynonyms.ts), e.g.
 *                "kidney_left" -> "left kidney", "lung_upper_lobe_left" -> "left lung"
 * Several classes may map to one organ (a model's lung lobes score as the lung): their union is the prediction.
 * A synonym match needs a single dataset organ for that UMD organ; a dataset split finer (lobes) matches by name.
 */
import type { OrganMap } from '../dataset/discover';
import { organKey } from '../dataset/organs';
import type { ModelCard } from '../model/card/modelCard';
import { umdOrganFor } from '../model/card/organSynonyms';

export type MatchedBy = 'organMap' | 'name' | 'synonym';

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

const synonymKey = (name: string): string => organKey(umdOrganFor(name) ?? name);

export function mapModelClasses(card: ModelCard, organs: OrganMap): LabelMapping {
  const byName = new Map<string, number>();
  // null marks a UMD organ that several dataset organs stand for: no synonym match can choose between them
  const bySynonym = new Map<string, number | null>();
  for (const [id, name] of organs.byId) {
    byName.set(organKey(name), id);
    const k = synonymKey(name);
    bySynonym.set(k, bySynonym.has(k) ? null : id);
  }
  const find = (name: string): { id: number; by: 'name' | 'synonym' } | undefined => {
    const direct = byName.get(organKey(name));
    if (direct !== undefined) return { id: direct, by: 'name' };
    const viaSynonym = bySynonym.get(synonymKey(name));
    return typeof viaSynonym === 'number' ? { id: viaSynonym, by: 'synonym' } : undefined;
  };
  const explicit = new Map(Object.entries(card.organMap ?? {}).map(([from, to]) => [organKey(from), to]));

  const maxClass = Math.max(0, ...Object.keys(card.labels).map(Number));
  const lut = new Uint16Array(maxClass + 1);
  const mapping: LabelMapping = { lut, unmatched: [], excluded: [], matches: [] };
  for (const [cls, name] of Object.entries(card.labels)) {
    const key = organKey(name);
    let hit: { id: number; by: MatchedBy } | undefined;
    if (explicit.has(key)) {
      const target = explicit.get(key);
      if (target === null || target === undefined) {
        mapping.excluded.push(name);
        continue;
      }
      const found = find(target);
      if (!found) {
        mapping.unmatched.push(`${name} (organMap: "${target}")`);
        continue;
      }
      hit = { id: found.id, by: 'organMap' };
    } else hit = find(name);
    if (!hit) {
      mapping.unmatched.push(name);
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
