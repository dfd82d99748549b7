/**
 * What the card resolver needs from an `.onnx` file, read without loading the model: the custom
 * `metadata_props` (onnxruntime-node's InferenceSession does not expose them) and the graph's input and output
 * names (a card derived from nnU-Net or MONAI files does not name the tensors).
 *
 * A minimal protobuf walker over the file. Tags and lengths are read; payloads not needed (the weights, almost
 * the whole file) are skipped by position, so a 500 MB checkpoint costs a few hundred small reads, not 500 MB.
 * Field numbers from onnx/onnx.proto (stable since IR version 3):
 *   ModelProto          graph = 7 (GraphProto), metadata_props = 14 (StringStringEntryProto)
 *   StringStringEntry   key = 1, value = 2
 *   GraphProto          initializer = 5 (TensorProto), input = 11, output = 12 (ValueInfoProto),
 *                       sparse_initializer = 15 (SparseTensorProto)
 *   ValueInfoProto      name = 1;  TensorProto name = 8;  SparseTensorProto values = 1 (TensorProto)
 * Exports before IR version 4 list every weight among the graph inputs as well; those are not model inputs,
 * so initializer names are removed from the inputs (as onnxruntime's session.inputNames does).
 */
import * as fs from 'node:fs';

export interface OnnxModelInfo {
  /** metadata_props in file order; a repeated key keeps its last value. */
  metadata: Map<string, string>;
  /** Graph inputs that are not initializers, and graph outputs, in declaration order. */
  inputs: string[];
  outputs: string[];
}

export class OnnxFormatError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'OnnxFormatError';
  }
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Positioned reads through a small buffer: the walker mostly reads a few bytes, then jumps far ahead. */
class FileBytes {
  private readonly buf = Buffer.alloc(64 * 1024);
  private start = 0;
  private len = 0;

  constructor(private readonly fd: number, readonly size: number) {}

  byteAt(pos: number): number {
    if (pos < this.start || pos >= this.start + this.len) {
      this.start = pos;
      this.len = fs.readSync(this.fd, this.buf, 0, this.buf.length, pos);
      if (this.len === 0) throw new RangeError(`unexpected end of file at byte ${pos}`);
    }
    return this.buf[pos - this.start];
  }

  bytes(pos: number, n: number): Buffer {
    const out = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = fs.readSync(this.fd, out, got, n - got, pos + got);
      if (r === 0) throw new RangeError(`unexpected end of file at byte ${pos + got}`);
      got += r;
    }
    return out;
  }
}

/** Varint at pos: its value (exact below 2^53, enough for any length in a file) and the position after it. */
function varint(src: FileBytes, pos: number, end: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let n = 0; n < 10; n++) {
    if (pos >= end) throw new RangeError(`varint runs past its message at byte ${pos}`);
    const b = src.byteAt(pos++);
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new RangeError(`varint longer than 10 bytes at byte ${pos}`);
}

/** Calls `onField` for every field of the message in [start, end); `from`/`to` bound a length-delimited payload. */
function walk(src: FileBytes, start: number, end: number, onField: (field: number, wire: number, from: number, to: number) => void): void {
  let pos = start;
  while (pos < end) {
    const at = pos;
    const [tag, afterTag] = varint(src, pos, end);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new RangeError(`field number 0 at byte ${at}`);
    let from = afterTag;
    let to: number;
    if (wire === WIRE_VARINT) to = varint(src, afterTag, end)[1];
    else if (wire === WIRE_I64) to = afterTag + 8;
    else if (wire === WIRE_I32) to = afterTag + 4;
    else if (wire === WIRE_LEN) {
      const [n, afterLen] = varint(src, afterTag, end);
      from = afterLen;
      to = afterLen + n;
    } else throw new RangeError(`unsupported wire type ${wire} at byte ${at}`);
    if (to > end) throw new RangeError(`field ${field} at byte ${at} runs past its message (ends at ${to}, message at ${end})`);
    onField(field, wire, from, to);
    pos = to;
  }
}

function stringFields(src: FileBytes, from: number, to: number, wanted: readonly number[]): Map<number, string> {
  const out = new Map<number, string>();
  walk(src, from, to, (field, wire, a, b) => {
    if (wire === WIRE_LEN && wanted.includes(field)) out.set(field, src.bytes(a, b - a).toString('utf8'));
  });
  return out;
}

export function readOnnxModelInfo(file: string): OnnxModelInfo {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new OnnxFormatError(file, `cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    const src = new FileBytes(fd, fs.fstatSync(fd).size);
    const metadata = new Map<string, string>();
    const inputs: string[] = [];
    const outputs: string[] = [];
    const initializers = new Set<string>();
    let graphs = 0;
    walk(src, 0, src.size, (field, wire, from, to) => {
      if (wire !== WIRE_LEN) return;
      if (field === 14) {
        const kv = stringFields(src, from, to, [1, 2]);
        metadata.set(kv.get(1) ?? '', kv.get(2) ?? '');
      } else if (field === 7) {
        graphs++;
        walk(src, from, to, (gField, gWire, a, b) => {
          if (gWire !== WIRE_LEN) return;
          if (gField === 11 || gField === 12) {
            const name = stringFields(src, a, b, [1]).get(1) ?? '';
            (gField === 11 ? inputs : outputs).push(name);
          } else if (gField === 5) {
            initializers.add(stringFields(src, a, b, [8]).get(8) ?? '');
          } else if (gField === 15) {
            walk(src, a, b, (sField, sWire, c, d) => {
              if (sField === 1 && sWire === WIRE_LEN) initializers.add(stringFields(src, c, d, [8]).get(8) ?? '');
            });
          }
        });
      }
    });
    if (graphs === 0) throw new RangeError('no graph (field 7 of ModelProto)');
    return { metadata, inputs: inputs.filter((n) => !initializers.has(n)), outputs };
  } catch (e) {
    if (e instanceof OnnxFormatError) throw e;
    throw new OnnxFormatError(file, `not a readable ONNX model: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}
