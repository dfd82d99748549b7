/**
 * Validation of `prompt.text` (precomputed text embeddings, docs/foundation-models.md section 4): the shape of the
 * block only; the file itself is read and its size checked by textEmbeddings.ts when the model is loaded.
 */
import type { TextEmbeddings } from './modelCard';
import { isObject, show, warnUnknownKeys } from './jsonChecks';

const MODALITIES = ['CT', 'MRI', 'PET'] as const;

/** `{input, file, dim, rows: [{organ, modality?}]}`; pushes every problem with its key path (`at`). */
export function checkTextPrompt(v: unknown, at: string, errors: string[], warnings: string[], name: string): TextEmbeddings | undefined {
  if (!isObject(v)) {
    errors.push(`${at} must be an object {"input": "<tensor>", "file": "<name>.f32", "dim": n, "rows": [{"organ": "liver"}, ...]} (got ${show(v)})`);
    return undefined;
  }
  warnUnknownKeys(v, ['input', 'file', 'dim', 'rows'], `${at}.`, name, warnings);
  const before = errors.length;
  for (const k of ['input', 'file'] as const) {
    if (typeof v[k] !== 'string' || v[k] === '') errors.push(`${at}.${k} must be a non-empty string (${k === 'input' ? "the model's text embedding input tensor" : 'the float32 file, relative to the card'}; got ${show(v[k])})`);
  }
  if (!(typeof v.dim === 'number' && Number.isInteger(v.dim) && v.dim > 0)) errors.push(`${at}.dim must be a positive integer (floats per row; got ${show(v.dim)})`);
  const rows: TextEmbeddings['rows'] = [];
  if (!Array.isArray(v.rows) || v.rows.length === 0) {
    errors.push(`${at}.rows must be a non-empty list of {"organ": "<name>", "modality"?: "CT" | "MRI" | "PET"}, one per row of the file (got ${show(v.rows)})`);
  } else {
    const seen = new Set<string>();
    v.rows.forEach((r, i) => {
      if (!isObject(r) || typeof r.organ !== 'string' || r.organ.trim() === '') {
        errors.push(`${at}.rows[${i}] must be {"organ": "<name>", "modality"?: "CT" | "MRI" | "PET"} (got ${show(r)})`);
        return;
      }
      warnUnknownKeys(r, ['organ', 'modality'], `${at}.rows[${i}].`, name, warnings);
      if (r.modality !== undefined && !(MODALITIES as readonly unknown[]).includes(r.modality)) {
        errors.push(`${at}.rows[${i}].modality must be "CT", "MRI" or "PET", or absent for every modality (got ${show(r.modality)})`);
        return;
      }
      const key = `${r.organ.trim().toLowerCase()}|${String(r.modality ?? '*')}`;
      if (seen.has(key)) errors.push(`${at}.rows[${i}]: organ ${show(r.organ)}${r.modality ? ` (${String(r.modality)})` : ''} has a row already`);
      seen.add(key);
      rows.push(r.modality === undefined ? { organ: r.organ } : { organ: r.organ, modality: r.modality as 'CT' | 'MRI' | 'PET' });
    });
  }
  if (errors.length > before) return undefined;
  return { input: v.input as string, file: v.file as string, dim: v.dim as number, rows };
}
