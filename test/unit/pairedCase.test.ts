/**
 * The paired view's other scan (issue 6): same subject, same study, the other modality, same organ, from the
 * same run; a missing one is named, not an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaseRecord } from '../../src/core/runstore/schema';
import { findPairedRecord, leftFirst, pairedModality } from '../../src/extension/viewer/pairedCase';

const rec = (study: 'PETCT' | 'PETMRI', subject: string, modality: 'CT' | 'PET' | 'MRI', organ: string | null): CaseRecord => ({
  study, subject, modality, organ, labelId: organ ? 1 : null, dice: organ ? 0.8 : null, volume_gt_ml: null, volume_pred_ml: null,
  status: organ ? 'ok' : 'error', image: `${study}/${subject}/${modality}.nii.gz`,
} as CaseRecord);

test('paired view: CT pairs with PET, MRI with PET, PET with its study\'s anatomical scan', () => {
  assert.equal(pairedModality({ study: 'PETCT', modality: 'CT' }), 'PET');
  assert.equal(pairedModality({ study: 'PETMRI', modality: 'MRI' }), 'PET');
  assert.equal(pairedModality({ study: 'PETCT', modality: 'PET' }), 'CT');
  assert.equal(pairedModality({ study: 'PETMRI', modality: 'PET' }), 'MRI');
});

test('paired view: the record of the same subject, study and organ in the other modality', () => {
  const records = [
    rec('PETCT', 's1', 'CT', 'liver'), rec('PETCT', 's1', 'PET', 'spleen'), rec('PETCT', 's1', 'PET', 'liver'),
    rec('PETMRI', 's1', 'PET', 'liver'), rec('PETCT', 's2', 'PET', 'liver'), rec('PETMRI', 's1', 'MRI', 'liver'),
  ];
  const ct = findPairedRecord(records, records[0]);
  assert.ok('record' in ct);
  assert.deepEqual(ct.record, records[2]);
  const mri = findPairedRecord(records, records[5]);
  assert.ok('record' in mri);
  assert.deepEqual(mri.record, records[3]);
  const pet = findPairedRecord(records, records[2]);
  assert.ok('record' in pet);
  assert.deepEqual(pet.record, records[0]);
});

test('paired view: a missing scan or organ is named', () => {
  const records = [rec('PETCT', 's1', 'CT', 'liver'), rec('PETCT', 's2', 'PET', 'liver'), rec('PETCT', 's3', 'CT', 'liver'), rec('PETCT', 's3', 'PET', 'spleen')];
  assert.deepEqual(findPairedRecord(records, records[0]), { missing: 'No PET scan of s1 (PETCT) in this run.' });
  assert.deepEqual(findPairedRecord(records, records[2]), { missing: 'No PET scan of s3 (PETCT) in this run for liver.' });
  // a case that failed as a whole (organ null) still pairs, so the other scan is shown
  const failed = [rec('PETCT', 's4', 'CT', 'liver'), rec('PETCT', 's4', 'PET', null)];
  const f = findPairedRecord(failed, failed[0]);
  assert.ok('record' in f);
  assert.equal(f.record.modality, 'PET');
});

test('paired view: the anatomical scan goes left, PET right', () => {
  const ct = { modality: 'CT' }, pet = { modality: 'PET' };
  assert.deepEqual(leftFirst(pet, ct), [ct, pet]);
  assert.deepEqual(leftFirst(ct, pet), [ct, pet]);
});
