/**
 * The training subjects of one scan type as an nnU-Net v2 raw dataset (the supervised reference of the UMD paper,
 * docs/foundation-models.md "nnU-Net reference"):
 *
 *   <out>/Dataset<id>_<name>/imagesTr/<subject>_0000.nii.gz   symlink to <root>/<study>/<subject>/<modality>.nii.gz
 *   <out>/Dataset<id>_<name>/labelsTr/<subject>.nii.gz        symlink to the study's labels, or (when the labels'
 *                                                            grid is not the image's) the labels resampled onto
 *                                                            the image's grid, nearest neighbour, written here
 *   <out>/Dataset<id>_<name>/dataset.json                    channel_names {"0": "CT" | "MRI" | "PET"}, labels
 *                                                            {"background": 0, <organ>: id, ...}, numTraining,
 *                                                            file_ending ".nii.gz"
 *
 * nnU-Net normalizes channel "CT" with its CT scheme (dataset-wide percentiles and statistics) and any other name
 * with a per-image z-score. Nothing is copied but resampled labels; the dataset's files are never written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resampleNearest } from '../geometry/resample';
import { readGrid, readLabels } from '../nifti/read';
import { writeNifti } from '../nifti/write';
import type { Dataset } from './discover';
import type { Modality, Study } from './organs';

export interface NnunetRawOptions {
  outDir: string;
  /** nnU-Net dataset id (1..999) and name: the folder is Dataset<id, 3 digits>_<name>. */
  datasetId: number;
  name: string;
  study: Study;
  modality: Modality;
  subjects: readonly string[];
}

/** Writes the raw dataset; returns its folder. Throws naming the subject or file when a scan is missing. */
export function writeNnunetRaw(dataset: Dataset, o: NnunetRawOptions): string {
  if (!Number.isInteger(o.datasetId) || o.datasetId < 1 || o.datasetId > 999) throw new Error(`nnU-Net dataset id must be an integer in 1..999 (got ${o.datasetId})`);
  if (!/^[A-Za-z0-9_-]+$/.test(o.name)) throw new Error(`nnU-Net dataset name must be letters, digits, _ and - (got "${o.name}")`);
  const ids = [...dataset.organs.byId.keys()].sort((a, b) => a - b);
  // nnU-Net v2 requires consecutive labels 0..N
  if (ids.some((id, n) => id !== n + 1)) throw new Error(`${path.join(dataset.root, 'umd.json')}: nnU-Net needs label ids 1..N without gaps; this dataset's are ${ids.join(', ')}`);
  const dir = path.join(o.outDir, `Dataset${String(o.datasetId).padStart(3, '0')}_${o.name}`);
  if (fs.existsSync(dir)) throw new Error(`${dir} exists: choose another --dataset-id or remove it`);
  const cases = o.subjects.map((subject) => {
    const c = dataset.cases.find((x) => x.subject === subject && x.study === o.study && x.modality === o.modality);
    if (!c) throw new Error(`${path.join(dataset.root, o.study, subject)}: no ${o.modality} scan with labels for training subject ${subject}`);
    return c;
  });
  fs.mkdirSync(path.join(dir, 'imagesTr'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'labelsTr'));
  for (const c of cases) {
    fs.symlinkSync(path.resolve(c.image), path.join(dir, 'imagesTr', `${c.subject}_0000.nii.gz`));
    const target = path.join(dir, 'labelsTr', `${c.subject}.nii.gz`);
    const img = readGrid(c.image);
    const lab = readGrid(c.labels);
    const same = img.dims.every((d, a) => d === lab.dims[a]) && img.affine.every((v, n) => Math.abs(v - lab.affine[n]) < 1e-4);
    if (same) fs.symlinkSync(path.resolve(c.labels), target);
    else writeNifti(target, resampleNearest(readLabels(c.labels), img), `umd-lens labels on ${path.basename(c.image)}'s grid`);
  }
  const json = {
    channel_names: { '0': o.modality },
    labels: { background: 0, ...Object.fromEntries(ids.map((id) => [dataset.organs.byId.get(id)!, id])) },
    numTraining: cases.length,
    file_ending: '.nii.gz',
    name: o.name,
    description: `UMD Lens: ${o.study}/${o.modality} of ${cases.length} training subjects (${o.subjects.join(', ')}) from ${dataset.root}`,
  };
  fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify(json, null, 2) + '\n');
  return dir;
}
