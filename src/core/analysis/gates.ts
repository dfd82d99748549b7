/**
 * Quality gates for a run: thresholds a checkpoint must hold, written in a `umd.gates.json` file
 * (JSON Schema: schemas/umd.gates.schema.json), checked by `umd-lens gate` in CI and, later, shown by the
 * extension as a diagnostic on each failing gate's line.
 *
 *   {
 *     "gates": [
 *       { "organ": "*", "modality": "CT", "minDice": 0.8 },
 *       { "organ": "gallbladder", "modality": "CT", "minDice": 0.5 },
 *       { "organ": "liver", "modality": "*", "minNsd": 0.5, "maxGap": 0.3 },
 *       { "maxRegression": 0.02 }
 *     ]
 *   }
 *
 * An entry names an `organ` (a dataset organ name, case and "_"/"-" insensitive, or "*", the default) and a
 * `modality` ("CT", "MRI", "PET" or "*", the default) and one or more thresholds; each threshold is one gate:
 *   minDice        mean Dice of the organ in that modality >= threshold
 *   minNsd         mean NSD likewise
 *   maxGap         mean paired Dice gap, structural scan minus PET of the same study and subject (the CT-PET and
 *                  MRI-PET rows of gap.ts) <= threshold; the modality names the structural side ("CT": CT-PET,
 *                  "MRI": MRI-PET, "*": both); "PET" is refused (it is on both sides)
 *   maxRegression  drop of mean Dice against a baseline run, mean(baseline) - mean(run) over the cases both
 *                  have scores for (compare.ts's matching), <= threshold; needs a baseline
 * Means skip null scores (both masks empty, errors). Modality cells pool every study of a modality: "PET" is the
 * PET of both the PET/CT and the PET/MRI study.
 *
 * Wildcards expand to every organ of the run's dataset and every modality. For each (organ, modality, kind) the
 * most specific gate applies: a named organ beats "*", then a named modality beats "*"; between equally specific
 * gates the later one in the file wins. So `"*"` sets a default and a named organ overrides it. A cell without any
 * scored case is skipped for a wildcard gate but fails a gate that names both organ and modality (there is
 * nothing to check it on); a wildcard gate that finds no scored cell at all fails once, and a named organ the
 * dataset does not have fails too: a gate never passes by checking nothing.
 *
 * The file is parsed with jsonc-parser (comments and trailing commas allowed), so every gate keeps the line and
 * column of its threshold key. Syntax errors, wrong types, out-of-range thresholds and unknown keys are collected
 * and thrown together, each with its JSON path, line and column (GatesFileError).
 */
import * as fs from 'node:fs';
// the ESM build: esbuild would otherwise bundle the UMD build, whose dynamic require('./impl/...') fails in dist/
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { organKey, type Modality } from '../dataset/organs';
import type { StoredRun } from '../runstore/runStore';
import { matchedScores, MODALITIES, organRecords } from './compare';
import { GAP_PAIRS, pairedScores } from './gap';
import { mean, organOrder, recordsByKey, scoreOf } from './scores';

export type GateKind = 'minDice' | 'minNsd' | 'maxGap' | 'maxRegression';
export const GATE_KINDS: readonly GateKind[] = ['minDice', 'minNsd', 'maxGap', 'maxRegression'];
export type GateModality = Modality | '*';

/** One threshold of the gates file, where it is written (1-based line and column of its key). */
export interface GateSpec {
  organ: string;
  modality: GateModality;
  kind: GateKind;
  threshold: number;
  line: number;
  column: number;
  /** Index of the entry in `gates`. */
  entry: number;
}

export interface ParsedGates {
  file: string;
  gates: GateSpec[];
}

export interface GatesProblem {
  path: string;
  line: number;
  column: number;
  message: string;
}

export class GatesFileError extends Error {
  constructor(readonly file: string, readonly problems: GatesProblem[]) {
    super(`${file}: invalid gates file:\n${problems.map((p) => `  ${file}:${p.line}:${p.column}: ${p.path ? p.path + ': ' : ''}${p.message}`).join('\n')}`);
  }
}

export interface GateResult {
  /** The gate as applied: a concrete organ and modality (wildcards expanded), its kind and threshold. */
  gate: { organ: string; modality: GateModality; kind: GateKind; threshold: number };
  /** 1-based line (and column) of the threshold's key in the gates file. */
  line: number;
  column: number;
  /** The mean (Dice, NSD), gap or drop measured; null when there was nothing to measure. */
  measured: number | null;
  pass: boolean;
  message: string;
  /** Cases (minDice, minNsd), subject pairs (maxGap) or matched cases (maxRegression) measured. */
  n: number;
}

const RANGES: Record<GateKind, [number, number]> = { minDice: [0, 1], minNsd: [0, 1], maxGap: [-1, 1], maxRegression: [0, 1] };
const ENTRY_KEYS = new Set<string>(['organ', 'modality', 'description', ...GATE_KINDS]);
const ROOT_KEYS = new Set(['$schema', 'description', 'gates']);

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

export function parseGates(text: string, file: string): ParsedGates {
  const starts = lineStarts(text);
  const at = (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  };
  const problems: GatesProblem[] = [];
  const problem = (node: Node | undefined, path: string, message: string) => problems.push({ path, ...at(node?.offset ?? 0), message });

  const syntax: ParseError[] = [];
  const root = parseTree(text, syntax, { allowTrailingComma: true, disallowComments: false });
  for (const e of syntax) problems.push({ path: '', ...at(e.offset), message: `JSON syntax error: ${printParseErrorCode(e.error)}` });
  if (syntax.length) throw new GatesFileError(file, problems);
  if (!root || root.type !== 'object') {
    problem(root, '', 'expected an object {"gates": [...]}');
    throw new GatesFileError(file, problems);
  }

  let gatesNode: Node | undefined;
  for (const prop of root.children ?? []) {
    const [keyNode, valueNode] = prop.children ?? [];
    const key = keyNode.value as string;
    if (!ROOT_KEYS.has(key)) problem(keyNode, key, `unknown key (allowed: ${[...ROOT_KEYS].join(', ')})`);
    else if (key === 'gates') gatesNode = valueNode;
    else if (valueNode?.type !== 'string') problem(valueNode, key, 'must be a string');
  }
  const gates: GateSpec[] = [];
  if (!gatesNode) problem(root, 'gates', 'missing: the file needs a "gates" array');
  else if (gatesNode.type !== 'array') problem(gatesNode, 'gates', 'must be an array of gate entries');
  else {
    (gatesNode.children ?? []).forEach((entryNode, entry) => {
      const base = `gates[${entry}]`;
      if (entryNode.type !== 'object') {
        problem(entryNode, base, 'must be an object {"organ", "modality", "minDice" | "minNsd" | "maxGap" | "maxRegression"}');
        return;
      }
      let organ = '*';
      let modality: GateModality = '*';
      const kinds: Array<{ kind: GateKind; threshold: number; node: Node }> = [];
      let modalityNode: Node | undefined;
      for (const prop of entryNode.children ?? []) {
        const [keyNode, v] = prop.children ?? [];
        const key = keyNode.value as string;
        const path = `${base}.${key}`;
        if (!ENTRY_KEYS.has(key)) {
          problem(keyNode, path, `unknown key (allowed: ${[...ENTRY_KEYS].join(', ')})`);
        } else if (key === 'organ') {
          if (v?.type !== 'string' || !(v.value as string).trim()) problem(v, path, 'must be an organ name or "*"');
          else organ = (v.value as string).trim();
        } else if (key === 'modality') {
          modalityNode = v;
          if (v?.type !== 'string' || !['CT', 'MRI', 'PET', '*'].includes(v.value as string)) problem(v, path, 'must be one of "CT", "MRI", "PET", "*"');
          else modality = v.value as GateModality;
        } else if (key === 'description') {
          if (v?.type !== 'string') problem(v, path, 'must be a string');
        } else {
          const kind = key as GateKind;
          const [lo, hi] = RANGES[kind];
          if (v?.type !== 'number' || !(v.value >= lo && v.value <= hi)) problem(v, path, `must be a number in [${lo}, ${hi}]`);
          else kinds.push({ kind, threshold: v.value as number, node: keyNode });
        }
      }
      if (kinds.length === 0 && !(entryNode.children ?? []).some((p) => GATE_KINDS.includes(p.children?.[0].value))) {
        problem(entryNode, base, `names no threshold: add one of ${GATE_KINDS.join(', ')}`);
      }
      if (modality === 'PET' && kinds.some((k) => k.kind === 'maxGap')) {
        problem(modalityNode, `${base}.modality`, 'maxGap compares the structural scan (CT or MRI) with the PET of its study: use "CT", "MRI" or "*"');
      }
      for (const k of kinds) gates.push({ organ, modality, kind: k.kind, threshold: k.threshold, ...at(k.node.offset), entry });
    });
  }
  if (problems.length) throw new GatesFileError(file, problems);
  return { file, gates };
}

export function readGates(file: string): ParsedGates {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the gates file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseGates(text, file);
}

/** 2 = named organ, +1 = named modality: the most specific gate applies to a cell. */
function specificity(g: GateSpec): number {
  return (g.organ === '*' ? 0 : 2) + (g.modality === '*' ? 0 : 1);
}

export function evaluateGates(run: StoredRun, gatesFile: ParsedGates, baseline?: StoredRun): GateResult[] {
  const needsBaseline = gatesFile.gates.find((g) => g.kind === 'maxRegression');
  if (needsBaseline && !baseline) {
    throw new Error(`${gatesFile.file}:${needsBaseline.line}: maxRegression needs a baseline run to compare with (--baseline <runDir>)`);
  }
  const organs = organOrder(run);
  const byOrganKey = new Map(organs.map((o) => [organKey(o), o]));
  const results: GateResult[] = [];

  // a named organ the dataset does not have can match no cell: it fails on its own line
  for (const g of gatesFile.gates) {
    if (g.organ !== '*' && !byOrganKey.has(organKey(g.organ))) {
      results.push({
        gate: { organ: g.organ, modality: g.modality, kind: g.kind, threshold: g.threshold }, line: g.line, column: g.column,
        n: 0, measured: null, pass: false,
        message: `organ "${g.organ}" is not an organ of this run's dataset (${organs.join(', ')})`,
      });
    }
  }

  const byKey = recordsByKey(run);
  const baseByKey = baseline ? organRecords(baseline) : undefined;
  // cells each gate applied to, and how many of them had scores: a wildcard gate that checked nothing fails
  const won = new Map<GateSpec, { cells: number; scored: number }>();
  for (const kind of GATE_KINDS) {
    const mine = gatesFile.gates.filter((g) => g.kind === kind);
    if (!mine.length) continue;
    const modalities: readonly Modality[] = kind === 'maxGap' ? ['CT', 'MRI'] : MODALITIES;
    for (const organ of organs) {
      for (const modality of modalities) {
        let applied: GateSpec | undefined;
        for (const g of mine) {
          const organMatch = g.organ === '*' || organKey(g.organ) === organKey(organ);
          const modalityMatch = g.modality === '*' || g.modality === modality;
          if (organMatch && modalityMatch && (!applied || specificity(g) >= specificity(applied))) applied = g;
        }
        if (!applied) continue;
        const m = measure(kind, organ, modality);
        const tally = won.get(applied) ?? { cells: 0, scored: 0 };
        won.set(applied, { cells: tally.cells + 1, scored: tally.scored + (m.n > 0 ? 1 : 0) });
        if (m.n === 0 && specificity(applied) < 3) continue;
        const gate = { organ, modality, kind, threshold: applied.threshold };
        const base = { gate, line: applied.line, column: applied.column, n: m.n };
        if (m.value === null) {
          results.push({ ...base, measured: null, pass: false, message: `${organ} ${m.label}: no scored case to check ${kind} on` });
          continue;
        }
        const pass = kind.startsWith('min') ? m.value >= applied.threshold : m.value <= applied.threshold;
        const op = kind.startsWith('min') ? (pass ? '>=' : '<') : (pass ? '<=' : '>');
        results.push({ ...base, measured: m.value, pass, message: `${organ} ${m.label}: ${m.what} ${m.value.toFixed(3)} ${op} ${kind} ${applied.threshold} (n=${m.n})` });
      }
    }
  }
  for (const [g, tally] of won) {
    if (tally.scored > 0 || specificity(g) === 3) continue;
    results.push({
      gate: { organ: g.organ, modality: g.modality, kind: g.kind, threshold: g.threshold }, line: g.line, column: g.column,
      n: 0, measured: null, pass: false,
      message: `${g.organ} ${g.modality}: no scored case to check ${g.kind} on (the run has no ${g.modality === '*' ? '' : g.modality + ' '}scores${g.organ === '*' ? '' : ' for ' + g.organ})`,
    });
  }
  return results;

  function measure(kind: GateKind, organ: string, modality: Modality): { value: number | null; n: number; label: string; what: string } {
    if (kind === 'minDice' || kind === 'minNsd') {
      const metric = kind === 'minDice' ? 'dice' : 'nsd';
      const xs = run.cases
        .filter((r) => r.organ === organ && r.modality === modality)
        .map((r) => scoreOf(r, metric))
        .filter((v): v is number => v !== undefined);
      return { value: xs.length ? mean(xs) : null, n: xs.length, label: modality, what: `mean ${metric === 'dice' ? 'Dice' : 'NSD'}` };
    }
    if (kind === 'maxGap') {
      const pair = GAP_PAIRS.find((p) => p.a[1] === modality && p.b[1] === 'PET')!;
      const kept = pairedScores(run, organ, pair, 'dice', byKey);
      return { value: kept.length ? mean(kept.map((s) => s.diff)) : null, n: kept.length, label: pair.pair, what: 'mean Dice gap' };
    }
    const { pairs } = matchedScores(run, baseByKey!, organ, modality, 'dice');
    return {
      value: pairs.length ? mean(pairs.map((q) => q.base)) - mean(pairs.map((q) => q.run)) : null,
      n: pairs.length, label: `${modality} vs baseline`, what: 'mean Dice drop',
    };
  }
}
