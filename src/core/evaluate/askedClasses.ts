/**
 * Which classes a semantic model that is asked for its classes (classPrompt, text queries:
 * docs/foundation-models.md sections 3 and 4) is asked for on one case: the card's classes that map to an organ
 * of the dataset. With text queries, a class without a row for the case's modality cannot be asked: its organ is
 * not scored in that case (when no other class maps to it) and an error names organ, modality and file.
 */
import type { Modality } from '../dataset/organs';
import { askable, cardClasses, isQueried } from '../model/classQueries';
import type { LoadedModel } from '../model/predict';

export interface AskedClasses {
  /** Model class ids to ask; undefined for a card that is not asked (every class comes out anyway). */
  classes?: number[];
  /** Dataset label ids of organs no asked class maps to in this case: left out of its records. */
  unscored: Set<number>;
  /** One message per class that could not be asked. */
  errors: string[];
}

export function askedClasses(model: LoadedModel, lut: Uint16Array, modality: Modality): AskedClasses {
  if (!isQueried(model.card)) return { unscored: new Set(), errors: [] };
  const mapped = cardClasses(model.card).filter((c) => c < lut.length && lut[c] > 0);
  const { ids, missing } = askable(model.card, model.text, mapped, modality);
  const unscored = new Set(missing.map((m) => lut[m.id]).filter((organ) => !ids.some((c) => lut[c] === organ)));
  return { classes: ids, unscored, errors: missing.map((m) => m.message) };
}
