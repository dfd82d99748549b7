/**
 * Finds the cases of a dataset in the UMD Lens layout (our published spec, see README "Dataset layout"):
 *
 *   <root>/umd.json                          optional: {"organs": {"1": "liver", ...}}
 *   <root>/PETCT/<subject>/{CT,PET,labels}.nii.gz
 *   <root>/PETMRI/<subject>/{MRI,PET,labels}.nii.gz
 *
 * One subject name in both study folders is one person. A study's labels serve each image of that study
 * (the scans are co-registered; grids may differ and are aligned through the affines later).
 * Problems (a missing scan, missing labels) are collected per case, not thrown: the run evaluates the rest.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_ORGANS, STUDY_MODALITIES, type Modality, type Study } from './organs';

export interface OrganMap {
  /** Dataset label id -> organ name. */
  readonly byId: ReadonlyMap<number, string>;
}

/** One image to segment: a modality of a study of a subject, with the study's labels. */
export interface Case {
  readonly id: string; // `<study>_<subject>_<modality>`
  readonly subject: string;
  readonly study: Study;
  readonly modality: Modality;
  readonly image: string;
  readonly labels: string;
}

export interface CaseProblem {
  readonly id: string;
  readonly subject: string;
  readonly study: Study;
  readonly modality: Modality;
  readonly file: string;
  readonly message: string;
}

export interface Dataset {
  readonly root: string;
  readonly name: string;
  readonly organs: OrganMap;
  readonly cases: readonly Case[];
  readonly problems: readonly CaseProblem[];
  /** Subjects present in both studies: the pairs across PET/CT and PET/MRI. */
  readonly pairedSubjects: readonly string[];
}

const NIFTI_EXTS = ['.nii.gz', '.nii'];

function findNifti(dir: string, stem: string): string | undefined {
  for (const ext of NIFTI_EXTS) {
    const p = path.join(dir, stem + ext);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export function readOrganMap(root: string): { name: string; organs: OrganMap } {
  const file = path.join(root, 'umd.json');
  if (!fs.existsSync(file)) {
    return { name: path.basename(root), organs: { byId: new Map(DEFAULT_ORGANS.map((o) => [o.id, o.name])) } };
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const obj = json as { name?: unknown; organs?: unknown };
  if (typeof obj !== 'object' || obj === null) throw new Error(`${file}: expected a JSON object`);
  const byId = new Map<number, string>();
  if (obj.organs !== undefined) {
    if (typeof obj.organs !== 'object' || obj.organs === null || Array.isArray(obj.organs)) {
      throw new Error(`${file}: "organs" must be an object {"<label id>": "<organ name>"}`);
    }
    for (const [k, v] of Object.entries(obj.organs)) {
      const id = Number(k);
      if (!Number.isInteger(id) || id <= 0 || id > 65535) throw new Error(`${file}: organs key "${k}" is not a label id 1..65535`);
      if (typeof v !== 'string' || !v.trim()) throw new Error(`${file}: organs["${k}"] must be a non-empty name`);
      byId.set(id, v.trim());
    }
  } else {
    for (const o of DEFAULT_ORGANS) byId.set(o.id, o.name);
  }
  const name = typeof obj.name === 'string' ? obj.name : path.basename(root);
  return { name, organs: { byId } };
}

export function discoverDataset(rootIn: string): Dataset {
  const root = path.resolve(rootIn);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`${root}: dataset folder not found`);
  const { name, organs } = readOrganMap(root);
  const cases: Case[] = [];
  const problems: CaseProblem[] = [];
  const subjectsByStudy = new Map<Study, Set<string>>();
  for (const study of Object.keys(STUDY_MODALITIES) as Study[]) {
    const studyDir = path.join(root, study);
    const subjects = new Set<string>();
    subjectsByStudy.set(study, subjects);
    if (!fs.existsSync(studyDir)) continue;
    const entries = fs.readdirSync(studyDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    for (const subject of entries) {
      subjects.add(subject);
      const dir = path.join(studyDir, subject);
      const labels = findNifti(dir, 'labels');
      for (const modality of STUDY_MODALITIES[study]) {
        const id = `${study}_${subject}_${modality}`;
        const image = findNifti(dir, modality);
        if (!image) {
          problems.push({ id, subject, study, modality, file: path.join(dir, `${modality}.nii.gz`), message: `missing ${modality} scan of the ${study} pair` });
        } else if (!labels) {
          problems.push({ id, subject, study, modality, file: path.join(dir, 'labels.nii.gz'), message: `missing labels of the ${study} study` });
        } else {
          cases.push({ id, subject, study, modality, image, labels });
        }
      }
    }
  }
  if (cases.length === 0 && problems.length === 0) {
    throw new Error(`${root}: no cases found; expected <root>/PETCT/<subject>/{CT,PET,labels}.nii.gz and/or <root>/PETMRI/<subject>/{MRI,PET,labels}.nii.gz`);
  }
  const petct = subjectsByStudy.get('PETCT')!;
  const pairedSubjects = [...subjectsByStudy.get('PETMRI')!].filter((s) => petct.has(s)).sort();
  return { root, name, organs, cases, problems, pairedSubjects };
}
