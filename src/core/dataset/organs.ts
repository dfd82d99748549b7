/** The 13 organs of the UMD benchmark, with the label ids UMD Lens uses when a dataset has no umd.json. */
export const DEFAULT_ORGANS: ReadonlyArray<{ id: number; name: string }> = [
  { id: 1, name: 'liver' },
  { id: 2, name: 'spleen' },
  { id: 3, name: 'left kidney' },
  { id: 4, name: 'right kidney' },
  { id: 5, name: 'heart' },
  { id: 6, name: 'aorta' },
  { id: 7, name: 'left lung' },
  { id: 8, name: 'right lung' },
  { id: 9, name: 'brain' },
  { id: 10, name: 'bladder' },
  { id: 11, name: 'stomach' },
  { id: 12, name: 'pancreas' },
  { id: 13, name: 'gallbladder' },
];

/** Organ names compare case- and separator-insensitively: "Left_Kidney" and "left kidney" are one organ. */
export function organKey(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
}

/** Studies and modalities of the UMD layout. */
export type Study = 'PETCT' | 'PETMRI';
export type Modality = 'CT' | 'PET' | 'MRI';
export const STUDY_MODALITIES: Record<Study, readonly Modality[]> = {
  PETCT: ['CT', 'PET'],
  PETMRI: ['MRI', 'PET'],
};
