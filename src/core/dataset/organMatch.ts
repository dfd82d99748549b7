/**
 * Which dataset organ a model's organ name stands for, first match wins:
 *   1. organMap  the card's explicit {"model name": "dataset organ" | null}; null leaves the name unscored
 *   2. name      it equals a dataset organ's name (case and "_"/"-" insensitive)
 *   3. synonym   both names stand for the same UMD organ in the synonym table (organSynonyms.ts), e.g.
 *                "kidney_left" -> "left kidney", "lung_upper_lobe_left" -> "left lung"
 * A synonym match needs a single dataset organ for that UMD organ; a dataset split finer (lobes) matches by name.
 * Here, below the model and the analysis, so that evaluation (a card's classes, evaluate/labelMapping.ts) and the
 * analysis (a card's reported scores, analysis/gap.ts) match names by the same rules without either importing
 * the other.
 */
import type { OrganMap } from './discover';
import { organKey } from './organs';
import { umdOrganFor } from './organSynonyms';

export type MatchedBy = 'organMap' | 'name' | 'synonym';

export type OrganMatch =
  | { kind: 'organ'; id: number; by: MatchedBy }
  /** the organMap sets the name to null */
  | { kind: 'excluded' }
  /** no organ: `reported` is the name, with the organMap target that names no organ when there is one */
  | { kind: 'unmatched'; reported: string };

const synonymKey = (name: string): string => organKey(umdOrganFor(name) ?? name);

/** A matcher of model organ names against `organs`, through `organMap` (a card's) first. */
export function organMatcher(organs: OrganMap, organMap?: Record<string, string | null>): (name: string) => OrganMatch {
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
  const explicit = new Map(Object.entries(organMap ?? {}).map(([from, to]) => [organKey(from), to]));
  return (name) => {
    const key = organKey(name);
    if (explicit.has(key)) {
      const target = explicit.get(key);
      if (target === null || target === undefined) return { kind: 'excluded' };
      const found = find(target);
      if (!found) return { kind: 'unmatched', reported: `${name} (organMap: "${target}")` };
      return { kind: 'organ', id: found.id, by: 'organMap' };
    }
    const hit = find(name);
    return hit ? { kind: 'organ', ...hit } : { kind: 'unmatched', reported: name };
  };
}
