/**
 * Precomputed text embeddings (card `prompt.text`, docs/foundation-models.md section 4): the text side of SegVol
 * and SAT runs once at export time, and its output ships as `file`, rows.length x dim float32 little-endian
 * values, row r the embedding of `rows[r]`.
 *
 * Which row an organ gets (`textRowFor`): the rows naming that organ, compared as the rest of UMD Lens compares
 * organ names (case, spaces, "_" and "-" ignored; else both names standing for the same UMD organ in the synonym
 * table, e.g. "kidney_left" for "left kidney"); of those, the one of the image's modality, else the one without
 * modality (it serves every modality). None: the organ cannot be prompted (undefined; callers report it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Modality } from '../../dataset/organs';
import { organKey } from '../../dataset/organs';
import { umdOrganFor } from '../../dataset/organSynonyms';
import type { TextEmbeddings } from './modelCard';
import { CardError } from './jsonChecks';

export interface TextTable {
  /** Absolute path of the embeddings file. */
  file: string;
  dim: number;
  rows: TextEmbeddings['rows'];
  /** rows.length x dim floats, row-major. */
  data: Float32Array;
}

/**
 * Reads `text.file` relative to `cardDir` and checks its size is rows x dim x 4 bytes; a CardError names the
 * file (and the card) otherwise.
 */
export function loadTextEmbeddings(text: TextEmbeddings, cardDir: string, cardFile: string): TextTable {
  const file = path.resolve(cardDir, text.file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new CardError(cardFile, [`prompt.text.file: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`]);
  }
  const want = text.rows.length * text.dim * 4;
  if (bytes.length !== want) {
    throw new CardError(cardFile, [`prompt.text.file: ${file} has ${bytes.length} bytes; ${text.rows.length} rows x ${text.dim} float32 (prompt.text.rows x prompt.text.dim x 4) are ${want} bytes`]);
  }
  const data = new Float32Array(text.rows.length * text.dim);
  for (let v = 0; v < data.length; v++) data[v] = bytes.readFloatLE(4 * v);
  return { file, dim: text.dim, rows: text.rows, data };
}

const sameOrgan = (a: string, b: string): boolean => {
  if (organKey(a) === organKey(b)) return true;
  const ua = umdOrganFor(a);
  return ua !== undefined && ua === umdOrganFor(b);
};

/** The row of `organ` for `modality` (see the module's header), as a copy of its `dim` floats; undefined when none. */
export function textRowFor(table: TextTable, organ: string, modality: Modality | null): Float32Array | undefined {
  let general = -1;
  let specific = -1;
  table.rows.forEach((r, i) => {
    if (!sameOrgan(r.organ, organ)) return;
    if (r.modality === undefined) {
      if (general < 0) general = i;
    } else if (r.modality === modality && specific < 0) specific = i;
  });
  const at = specific >= 0 ? specific : general;
  return at < 0 ? undefined : table.data.slice(at * table.dim, (at + 1) * table.dim);
}

/** Why an organ has no row: names the organ, the modality and the file, and what rows there are. */
export function missingRowMessage(table: TextTable, organ: string, modality: Modality | null): string {
  const names = [...new Set(table.rows.map((r) => (r.modality ? `${r.organ} (${r.modality})` : r.organ)))];
  return `no text embedding row for organ "${organ}"${modality ? ` (${modality})` : ''} in ${table.file} (rows: ${names.join(', ')}): not prompted, not scored`;
}
