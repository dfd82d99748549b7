/**
 * Messages from the viewer webview are validated before the extension host acts on them (issue 7, security):
 * well-formed ones pass through unchanged, malformed ones are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSavedCase, validateViewerMessage } from '../../src/extension/viewer/validateMessage';

test('viewer messages: the well-formed pass, with only their known fields', () => {
  assert.deepEqual(validateViewerMessage({ type: 'ready' }), { type: 'ready' });
  const rendered = { type: 'rendered', caseId: 'PETCT_sub-001_CT', organId: 1, volumes: 3, voxels: { gt: 120, pred: 98 }, canvas: { width: 640, height: 480 } };
  assert.deepEqual(validateViewerMessage({ ...rendered, extra: 'dropped' }), rendered);
  assert.deepEqual(validateViewerMessage({ type: 'organ', caseId: 'c', organId: 0 }), { type: 'organ', caseId: 'c', organId: 0 });
  assert.deepEqual(validateViewerMessage({ type: 'error', message: 'could not load' }), { type: 'error', message: 'could not load' });
  assert.deepEqual(validateViewerMessage({ type: 'error', caseId: 'c', message: 'm' }), { type: 'error', caseId: 'c', message: 'm' });
  assert.deepEqual(validateViewerMessage({ ...rendered, panes: 2 }), { ...rendered, panes: 2 });
  assert.deepEqual(validateViewerMessage({ type: 'paired', caseId: 'c', paired: true }), { type: 'paired', caseId: 'c', paired: true });
  assert.deepEqual(validateViewerMessage({ type: 'paired', caseId: 'c', paired: false, x: 1 }), { type: 'paired', caseId: 'c', paired: false });
});

test('viewer messages: malformed ones are refused', () => {
  const rendered = { type: 'rendered', caseId: 'c', organId: 1, volumes: 3, voxels: { gt: 1, pred: 1 }, canvas: { width: 1, height: 1 } };
  const bad: unknown[] = [
    null, undefined, 42, 'ready', [], [{ type: 'ready' }], {}, { type: 7 }, { type: 'run-model' }, { type: '__proto__' },
    { ...rendered, caseId: 5 }, { ...rendered, organId: -1 }, { ...rendered, organId: 1.5 }, { ...rendered, volumes: '3' },
    { ...rendered, voxels: null }, { ...rendered, voxels: { gt: 1 } }, { ...rendered, canvas: { width: NaN, height: 1 } },
    { ...rendered, caseId: 'x'.repeat(5000) },
    { type: 'organ', caseId: 'c' }, { type: 'organ', caseId: 'c', organId: Infinity },
    { type: 'error' }, { type: 'error', message: { toString: 'evil' } }, { type: 'error', message: 'm', caseId: 3 },
    { type: 'error', message: 'y'.repeat(5000) },
    { ...rendered, panes: 3 }, { ...rendered, panes: 0 }, { ...rendered, panes: '2' },
    { type: 'paired', caseId: 'c' }, { type: 'paired', caseId: 'c', paired: 'yes' }, { type: 'paired', caseId: 9, paired: true },
  ];
  for (const m of bad) assert.equal(validateViewerMessage(m), undefined, JSON.stringify(m)?.slice(0, 80));
});

test('saved viewer state: the serializer takes only a well-formed case reference from it', () => {
  const ref = { runDir: '/w/.umd/runs/r1', study: 'PETCT', subject: 'sub-001', modality: 'CT', organ: 'liver' };
  assert.deepEqual(validateSavedCase({ v: 1, load: { type: 'load', ref }, ui: {} }), { ref, paired: false });
  assert.deepEqual(validateSavedCase({ v: 1, load: { type: 'load', ref: { ...ref, organ: null, extra: 1 }, paired: { missing: 'x' } } }), { ref: { ...ref, organ: null }, paired: true });
  const bad: unknown[] = [
    undefined, null, 'state', {}, { load: null }, { load: { type: 'load' } }, { load: { ref: { ...ref, runDir: '' } } },
    { load: { ref: { ...ref, runDir: 7 } } }, { load: { ref: { ...ref, subject: undefined } } }, { load: { ref: { ...ref, organ: 3 } } },
    { load: { ref: { ...ref, study: 'x'.repeat(5000) } } }, { load: { ref: [ref] } },
  ];
  for (const s of bad) assert.equal(validateSavedCase(s), undefined, JSON.stringify(s)?.slice(0, 80));
});
