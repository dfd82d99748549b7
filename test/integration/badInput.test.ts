/**
 * A corpus of bad inputs, generated here from a real UMD-mini dataset, evaluated through the real engine with the
 * committed CT-only demo model: every bad file is an `error` record naming the file and the problem in plain
 * words (no stack trace), and the good cases score exactly as in a clean run. Prints the reliability summary.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'fflate';
import { insideRunDir } from '../../src/core/runstore/confine';
import { evaluateRun } from '../../src/core/evaluate/evaluateRun';
import { readImage, readLabels } from '../../src/core/nifti/read';
import { writeNifti } from '../../src/core/nifti/write';
import { readRun } from '../../src/core/runstore/runStore';
import type { CaseRecord } from '../../src/core/runstore/schema';
import { repoRoot } from '../helpers/realData';
import { runNiftiFuzz } from '../helpers/niftiFuzzRun';
import { baseCard } from '../helpers/cards';
import { recordReliability } from '../helpers/reliability';
import { CLI } from '../helpers/cli';
import { phantomDataset } from '../helpers/phantomDataset';

const MODEL = path.join(repoRoot(), 'models', 'umd-mini-ct-only.onnx');
const tally = { modelInputs: 0, modelCorrect: 0, corpusFiles: 0, corpusErrorsCorrect: 0, corpusCrashes: 0, goodExpected: 0, goodLost: 0, fuzzTried: 0, fuzzNamed: 0, fuzzValues: 0, fuzzCrashes: 0 };

let cleanDataset = '';
type Edit = (v: DataView, bytes: Uint8Array) => void;
/** A bad subject: what to write in place of CT and PET (or labels), and what the error must say. */
interface Bad { subject: string; files: string[]; problem: RegExp }

test('bad-input corpus: each bad file is an error record naming it and the problem; good cases score as in a clean run', { timeout: 900_000 }, async () => {
  const clean = await phantomDataset('umd-bad-clean-', 1, 11);
  cleanDataset = clean;
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-bad-'));
  fs.cpSync(clean, data, { recursive: true });
  const src = path.join(data, 'PETCT', 'sub-001');
  const raw = (m: string) => gunzipSync(fs.readFileSync(path.join(src, `${m}.nii.gz`)));
  const bads: Bad[] = [];
  const subjectDir = (s: string) => { const d = path.join(data, 'PETCT', s); fs.mkdirSync(d, { recursive: true }); return d; };
  /** CT and PET of a new subject, each a header-edited uncompressed copy of sub-001's; labels copied. */
  const headerEdit = (subject: string, problem: RegExp, edit: Edit, petEdit: Edit = edit): void => {
    const d = subjectDir(subject);
    fs.copyFileSync(path.join(src, 'labels.nii.gz'), path.join(d, 'labels.nii.gz'));
    for (const [m, e] of [['CT', edit], ['PET', petEdit]] as const) {
      const b = Uint8Array.from(raw(m));
      e(new DataView(b.buffer), b);
      fs.writeFileSync(path.join(d, `${m}.nii`), b);
    }
    bads.push({ subject, files: [path.join(d, 'CT.nii'), path.join(d, 'PET.nii')], problem });
  };
  {
    const d = subjectDir('bad-truncated-gz');
    fs.copyFileSync(path.join(src, 'labels.nii.gz'), path.join(d, 'labels.nii.gz'));
    for (const m of ['CT', 'PET']) {
      const gz = fs.readFileSync(path.join(src, `${m}.nii.gz`));
      fs.writeFileSync(path.join(d, `${m}.nii.gz`), gz.subarray(0, Math.floor(gz.length * 0.6)));
    }
    bads.push({ subject: 'bad-truncated-gz', files: [path.join(d, 'CT.nii.gz'), path.join(d, 'PET.nii.gz')], problem: /corrupt or truncated gzip stream/ });
  }
  headerEdit('bad-magic', /not a NIfTI-1 or NIfTI-2 file \(bad magic\)/, (_v, b) => b.fill(0x58, 344, 348));
  headerEdit('bad-sizeof-hdr', /unreadable header .*sizeof_hdr must be 348/, (v) => v.setInt32(0, 999, true));
  headerEdit('bad-dims-lie', /truncated: header declares \d+ bytes/, (v) => v.setInt16(46, v.getInt16(46, true) * 2, true));
  headerEdit('bad-bitpix-lie', /header lies about its voxel size: bitpix 8/, (v) => v.setInt16(72, 8, true));
  headerEdit('bad-vox-offset', /vox_offset \d+ is past the end of the file/, (v, b) => v.setFloat32(108, b.length + 4096, true));
  headerEdit('bad-datatype', /unsupported datatype code 32/, (v) => { v.setInt16(70, 32, true); v.setInt16(72, 64, true); });
  headerEdit('bad-4d', /4D image \(dim\[4\]=2\)/, (v) => { v.setInt16(40, 4, true); v.setInt16(48, 2, true); });
  headerEdit('bad-spacing', /spacings must be positive/, (v) => { v.setInt16(252, 0, true); v.setInt16(254, 0, true); v.setFloat32(80, 0, true); },
    (v) => { v.setInt16(252, 1, true); v.setInt16(254, 0, true); v.setFloat32(84, -2, true); });
  headerEdit('bad-singular', /singular affine/, (v) => { for (let c = 0; c < 3; c++) v.setFloat32(280 + c * 4, 0, true); });
  headerEdit('bad-huge', /needs \d+ MB in memory, over the limit of 2048 MB/, (v) => { v.setInt16(42, 2000, true); v.setInt16(44, 2000, true); v.setInt16(46, 2000, true); });
  headerEdit('bad-no-overlap', /image and labels .* do not overlap in world space/, (v) => v.setFloat32(292, v.getFloat32(292, true) + 10000, true));
  {
    const d = subjectDir('bad-nonfinite');
    fs.copyFileSync(path.join(src, 'labels.nii.gz'), path.join(d, 'labels.nii.gz'));
    for (const [m, x] of [['CT', NaN], ['PET', Infinity]] as const) {
      const vol = readImage(path.join(src, `${m}.nii.gz`));
      vol.data[1234] = x;
      writeNifti(path.join(d, `${m}.nii.gz`), vol);
    }
    bads.push({ subject: 'bad-nonfinite', files: [path.join(d, 'CT.nii.gz'), path.join(d, 'PET.nii.gz')], problem: /image holds 1 NaN or infinite voxel\(s\) \(first at voxel 1234/ });
  }
  const labelCase = (subject: string, problem: RegExp, make: (l: ReturnType<typeof readLabels>) => Parameters<typeof writeNifti>[1]): void => {
    const d = subjectDir(subject);
    for (const m of ['CT', 'PET']) fs.copyFileSync(path.join(src, `${m}.nii.gz`), path.join(d, `${m}.nii.gz`));
    writeNifti(path.join(d, 'labels.nii.gz'), make(readLabels(path.join(src, 'labels.nii.gz'))));
    bads.push({ subject, files: [path.join(d, 'labels.nii.gz')], problem });
  };
  labelCase('bad-label-ids', /label ids 99 are not in the organ map/, (l) => { const data = Uint8Array.from(l.data); data[500] = 99; return { ...l, data }; });
  labelCase('bad-label-nan', /label map holds NaN at voxel 77/, (l) => { const data = Float32Array.from(l.data); data[77] = NaN; return { ...l, data }; });
  subjectDir('bad-missing');
  fs.copyFileSync(path.join(src, 'labels.nii.gz'), path.join(data, 'PETCT', 'bad-missing', 'labels.nii.gz'));
  bads.push({ subject: 'bad-missing', files: ['CT', 'PET'].map((m) => path.join(data, 'PETCT', 'bad-missing', `${m}.nii.gz`)), problem: /missing (CT|PET) scan of the PETCT pair/ });
  // an organ absent from the ground truth is not an error: the case completes and the organ is scored as absent
  {
    const d = subjectDir('edge-empty-organ');
    fs.copyFileSync(path.join(src, 'CT.nii.gz'), path.join(d, 'CT.nii.gz'));
    const l = readLabels(path.join(src, 'labels.nii.gz'));
    const data = Uint8Array.from(l.data).map((x) => (x === 1 ? 0 : x)); // 1 = liver in the default organ map
    writeNifti(path.join(d, 'labels.nii.gz'), { ...l, data });
  }

  const subjects = ['sub-001', 'edge-empty-organ', ...bads.map((b) => b.subject)];
  const [base, res] = [
    await evaluateRun({ modelPath: MODEL, datasetRoot: clean, runDir: fs.mkdtempSync(path.join(os.tmpdir(), 'umd-bad-run0-')), subjects: ['sub-001'] }),
    await evaluateRun({ modelPath: MODEL, datasetRoot: data, runDir: fs.mkdtempSync(path.join(os.tmpdir(), 'umd-bad-run1-')), subjects }),
  ];
  const stored = readRun(res.runDir).cases;
  const errors = stored.filter((r) => r.status === 'error');
  for (const b of bads) {
    const recs = errors.filter((r) => r.subject === b.subject);
    tally.corpusFiles += 2;
    for (const r of recs) {
      const named = b.files.some((f) => r.error!.startsWith(`${f}: `) || r.error!.includes(f));
      const plain = !/\n\s+at |\.js:\d+/.test(r.error!);
      if (named && plain && b.problem.test(r.error!)) tally.corpusErrorsCorrect++;
      else tally.corpusCrashes++;
      assert.ok(named, `${b.subject}: error does not name ${b.files.join(' or ')}: ${r.error}`);
      assert.match(r.error!, b.problem, b.subject);
      assert.ok(plain, `stack trace in ${r.error}`);
    }
    assert.deepEqual(recs.map((r) => r.modality).sort(), ['CT', 'PET'], `${b.subject}: one error per image`);
  }
  // + the empty-organ subject's PET, absent on purpose
  assert.equal(errors.length, bads.length * 2 + 1, errors.map((e) => e.error).join('\n'));
  assert.match(errors.find((e) => e.subject === 'edge-empty-organ')!.error!, /edge-empty-organ\/PET\.nii\.gz: missing PET scan/);
  assert.equal(readRun(res.runDir).manifest.counts?.errors, bads.length * 2 + 1);

  // good cases: the same records as the clean run, to the last digit
  const key = (r: CaseRecord) => `${r.study}/${r.modality}/${r.organ}`;
  const strip = (r: CaseRecord) => ({ ...r, image: undefined, pred: undefined });
  const cleanRecs = new Map(readRun(base.runDir).cases.map((r) => [key(r), r]));
  const good = stored.filter((r) => r.subject === 'sub-001');
  tally.goodExpected = cleanRecs.size;
  for (const [k, r] of cleanRecs) {
    const g = good.find((x) => key(x) === k);
    if (!g || JSON.stringify(strip(g)) !== JSON.stringify(strip(r))) tally.goodLost++;
  }
  assert.equal(tally.goodLost, 0);
  assert.equal(good.length, cleanRecs.size);
  assert.ok(good.every((r) => r.status !== 'error') && cleanRecs.size === 4 * 13);

  const empty = stored.filter((r) => r.subject === 'edge-empty-organ' && r.status !== 'error');
  assert.equal(empty.length, 13, 'the empty-organ CT case completes (its PET is absent from the folder)');
  const liver = empty.find((r) => r.organ === 'liver')!;
  assert.equal(liver.volume_gt_ml, 0);
  assert.notEqual(liver.status, 'error');
});

test('CLI --max-volume-mb: scans over the limit are case errors with the numbers, refused before decompression', { timeout: 300_000 }, () => {
  assert.ok(cleanDataset, 'needs the corpus test\'s dataset');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-bad-limit-'));
  const r = spawnSync(process.execPath, [CLI, 'evaluate', MODEL, '--data', cleanDataset, '--out', out, '--max-volume-mb', '1', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  const errors: string[] = JSON.parse(r.stdout).errors;
  assert.equal(errors.length, 4, errors.join('\n'));
  // CT of the phantom: 96x64x240 int16 -> float32 = 5.6 MB (labels are read first, and their grid is the CT's)
  for (const e of errors) assert.match(e, /sub-001\/(labels|CT|PET|MRI)\.nii\.gz: volume of \d+x\d+x\d+ \w+ voxels needs [\d.]+ MB in memory, over the limit of 1.00 MB \(umdLens\.limits\.maxVolumeMB \/ --max-volume-mb\)/);
  const bad = spawnSync(process.execPath, [CLI, 'evaluate', MODEL, '--data', cleanDataset, '--out', out + '-0', '--max-volume-mb', '0'], { encoding: 'utf8' });
  assert.match(bad.stderr, /--max-volume-mb must be a positive number of MB, got "0"/);
  assert.equal(bad.status, 2, bad.stderr);
});

test('model-side bad inputs through evaluate: wrong tensor names, rank or card types fail the run up front; too few output classes fail each case', { timeout: 300_000 }, async () => {
  assert.ok(cleanDataset, 'needs the corpus test\'s dataset');
  const fixtures = path.join(repoRoot(), 'test', 'fixtures', 'models');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umd-bad-models-'));
  const withCard = (onnx: string, name: string, card: Record<string, unknown>): string => {
    const m = path.join(dir, `${name}.onnx`);
    fs.copyFileSync(path.join(fixtures, onnx), m);
    fs.writeFileSync(path.join(dir, `${name}.umd.json`), JSON.stringify(card));
    return m;
  };
  tally.modelInputs = 4;
  const run = (modelPath: string) => evaluateRun({ modelPath, datasetRoot: cleanDataset, runDir: fs.mkdtempSync(path.join(os.tmpdir(), 'umd-bad-mrun-')), subjects: ['sub-001'] });
  const names = withCard('renamed.onnx', 'names', baseCard());
  await assert.rejects(run(names), (e: Error) => e.message.includes(names) && /card inputs\.image is "image" but the model's inputs are "ct_in"/.test(e.message));
  await assert.rejects(run(withCard('rank4.onnx', 'rank', baseCard())), /rank\.onnx.*input "image" has rank 4/s);
  await assert.rejects(run(withCard('pointwise.onnx', 'types', { ...baseCard(), patchSize: 'auto', spatialOrder: 7 })), /types\.umd\.json[\s\S]*patchSize[\s\S]*spatialOrder/);
  // pointwise.onnx has 3 output channels (classes 0..2); a card naming class 5 does not match it
  const few = withCard('pointwise.onnx', 'few', { ...baseCard(), labels: { '1': 'liver', '2': 'spleen', '5': 'heart' } });
  const res = await run(few);
  assert.equal(res.records.length, 4);
  for (const r of res.records) {
    assert.equal(r.status, 'error');
    assert.match(r.error!, /few\.onnx: the model outputs 3 channels \(classes 0\.\.2\) but the card's labels name class 5/);
  }
  tally.modelCorrect = 4;
});

test('writes stay in the run directory: escaping names are refused', () => {
  const run = path.join(os.tmpdir(), 'some-run');
  assert.equal(insideRunDir(run, path.join('pred', 'PETCT_a_CT.nii.gz')), path.join(run, 'pred', 'PETCT_a_CT.nii.gz'));
  for (const rel of ['../x.nii.gz', 'pred/../../x', '/etc/passwd', '', '.']) {
    assert.throws(() => insideRunDir(run, rel), /outside the run directory/, rel);
  }
});

test('untrusted workspaces: commands that run a model need trust; path and execution settings are restricted', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  const cmds = new Map<string, string | undefined>(pkg.contributes.commands.map((c: { command: string; enablement?: string }) => [c.command, c.enablement]));
  assert.match(cmds.get('umdLens.evaluate') ?? '', /isWorkspaceTrusted/);
  const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
  for (const key of ['umdLens.datasetPath', 'umdLens.runsDirectory', 'umdLens.inference.device', 'umdLens.limits.maxVolumeMB']) assert.ok(restricted.includes(key), key);
  // the host refuses too (a command invoked programmatically bypasses enablement)
  // (the trust check lives once, in host.ts: ensureTrusted; the evaluate command asks it before anything else)
  const src = (f: string) => fs.readFileSync(path.join(repoRoot(), 'src', 'extension', f), 'utf8');
  assert.match(src('registerEvaluate.ts'), /registerCommand\('umdLens\.evaluate', async \([^)]*\) => \{\s*if \(!ensureTrusted\(/);
  assert.match(src('host.ts'), /export function ensureTrusted\([^)]*\): boolean \{\s*if \(vscode\.workspace\.isTrusted\) return true;/);
});

test('fuzz counts for the summary', () => {
  const r = runNiftiFuzz(7, 1000);
  tally.fuzzTried = r.tried;
  tally.fuzzNamed = r.namedErrors;
  tally.fuzzValues = r.values;
  tally.fuzzCrashes = r.crashes.length;
  assert.equal(r.crashes.length, 0, r.crashes.slice(0, 5).join('\n'));
});

after(() => {
  // scripts/test.mjs prints these with the resume figures in the reliability summary at the end of `npm test`
  recordReliability('bad-input', {
    corpusTried: tally.corpusFiles, corpusKinds: tally.corpusFiles / 2, corpusCorrect: tally.corpusErrorsCorrect, corpusWrong: tally.corpusCrashes,
    modelTried: tally.modelInputs, modelCorrect: tally.modelCorrect,
    fuzzReads: tally.fuzzTried, fuzzNamedErrors: tally.fuzzNamed, fuzzValues: tally.fuzzValues, fuzzCrashes: tally.fuzzCrashes,
    goodExpected: tally.goodExpected, goodLost: tally.goodLost,
  });
});
