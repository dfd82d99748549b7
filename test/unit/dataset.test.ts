import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverDataset } from '../../src/core/dataset/discover';

function touch(...parts: string[]): void {
  const f = path.join(...parts);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, '');
}

test('discovers PETCT and PETMRI cases, pairs subjects, reports a missing scan per case', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-layout-'));
  for (const s of ['sub-a', 'sub-b']) for (const f of ['CT', 'PET', 'labels']) touch(root, 'PETCT', s, `${f}.nii.gz`);
  for (const f of ['MRI', 'labels']) touch(root, 'PETMRI', 'sub-a', `${f}.nii.gz`); // PET missing
  for (const f of ['MRI', 'PET', 'labels']) touch(root, 'PETMRI', 'sub-c', `${f}.nii`); // .nii accepted
  const ds = discoverDataset(root);
  assert.deepEqual(ds.cases.map((c) => c.id), [
    'PETCT_sub-a_CT', 'PETCT_sub-a_PET', 'PETCT_sub-b_CT', 'PETCT_sub-b_PET', 'PETMRI_sub-a_MRI', 'PETMRI_sub-c_MRI', 'PETMRI_sub-c_PET',
  ]);
  assert.equal(ds.cases[1].labels, path.join(root, 'PETCT', 'sub-a', 'labels.nii.gz'), 'a study\'s labels serve each of its images');
  assert.equal(ds.problems.length, 1);
  assert.equal(ds.problems[0].id, 'PETMRI_sub-a_PET');
  assert.match(ds.problems[0].message, /missing PET scan of the PETMRI pair/);
  assert.equal(ds.problems[0].file, path.join(root, 'PETMRI', 'sub-a', 'PET.nii.gz'));
  assert.deepEqual(ds.pairedSubjects, ['sub-a']);
  assert.equal(ds.organs.byId.size, 13, 'default organs without umd.json');
  assert.equal(ds.organs.byId.get(3), 'left kidney');
});

test('umd.json names the organs; bad umd.json is an error naming the key', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-layout-'));
  for (const f of ['CT', 'PET', 'labels']) touch(root, 'PETCT', 's1', `${f}.nii.gz`);
  fs.writeFileSync(path.join(root, 'umd.json'), JSON.stringify({ name: 'mine', organs: { 5: 'Liver', 7: 'Spleen' } }));
  const ds = discoverDataset(root);
  assert.equal(ds.name, 'mine');
  assert.deepEqual([...ds.organs.byId], [[5, 'Liver'], [7, 'Spleen']]);
  fs.writeFileSync(path.join(root, 'umd.json'), JSON.stringify({ organs: { zero: 'liver' } }));
  assert.throws(() => discoverDataset(root), /umd\.json: organs key "zero" is not a label id/);
  fs.writeFileSync(path.join(root, 'umd.json'), '{ not json');
  assert.throws(() => discoverDataset(root), /umd\.json: not valid JSON/);
});

test('an empty or absent folder is a clear error', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-layout-'));
  assert.throws(() => discoverDataset(root), /no cases found; expected <root>\/PETCT/);
  assert.throws(() => discoverDataset(path.join(root, 'nope')), /dataset folder not found/);
});
