/**
 * Other names for the 13 UMD organs, as models and datasets of the field spell them, so that a checkpoint
 * trained with its own class names is scored without a hand-written map. Several names may point to one organ:
 * a model's parts of an organ (TotalSegmentator's five lung lobes, its four heart chambers and myocardium) are
 * scored together as that organ.
 *
 * Sources (names as published there; compared case- and separator-insensitively through organKey):
 *   - TotalSegmentator, totalsegmentator/map_to_binary.py class_map: "total" (v2, 117 classes), "total_v1"
 *     (104 classes, also the channel_def of MONAI's wholeBody_ct_segmentation bundle), "total_mr",
 *     "heartchambers_highres".
 *   - AMOS 2022 dataset.json labels ("gall bladder", and "arota": AMOS's own misspelling of aorta).
 *   - BTCV / Synapse multi-organ and the Medical Segmentation Decathlon use the UMD spellings themselves
 *     ("left kidney", "gallbladder", "spleen", ...), so they need no entry.
 * Deliberately left out: names whose extent differs from the organ's (TotalSegmentator's kidney_cyst_left/right,
 * pulmonary_artery, pulmonary_vein, inferior_vena_cava, lung_vessels); map such classes with the card's organMap
 * if a model's definition of the organ includes them.
 * TotalSegmentator v2 segments the left atrial appendage apart from "heart"; it is part of the heart, so it maps
 * there and the union is scored.
 */
import { DEFAULT_ORGANS, organKey } from '../../dataset/organs';

export const ORGAN_SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  liver: [],
  spleen: [],
  'left kidney': ['kidney_left'],
  'right kidney': ['kidney_right'],
  heart: ['heart_myocardium', 'heart_atrium_left', 'heart_ventricle_left', 'heart_atrium_right', 'heart_ventricle_right', 'atrial_appendage_left'],
  aorta: ['arota'],
  'left lung': ['lung_left', 'lung_upper_lobe_left', 'lung_lower_lobe_left'],
  'right lung': ['lung_right', 'lung_upper_lobe_right', 'lung_middle_lobe_right', 'lung_lower_lobe_right'],
  brain: [],
  bladder: ['urinary_bladder'],
  stomach: [],
  pancreas: [],
  gallbladder: ['gall_bladder'],
};

const BY_KEY: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const o of DEFAULT_ORGANS) m.set(organKey(o.name), o.name);
  for (const [organ, names] of Object.entries(ORGAN_SYNONYMS)) for (const n of names) m.set(organKey(n), organ);
  return m;
})();

/** The UMD organ a name stands for ("Kidney_Left" -> "left kidney", "liver" -> "liver"), or undefined. */
export function umdOrganFor(name: string): string | undefined {
  return BY_KEY.get(organKey(name));
}
