/**
 * Gzip decompression that never goes past a caller's limit: the NIfTI header is inflated from the first bytes of
 * the stream (fflate's streaming Gunzip, in small steps), the caller decides from it how many bytes it needs (or
 * refuses the file) before the rest is inflated, and the rest is inflated with that bound by Node's zlib (several
 * times faster than a JavaScript inflater on whole-body volumes). A stream holding more than the header declares
 * is inflated in steps that stop at the bound.
 */
import * as zlib from 'node:zlib';
import { Gunzip } from 'fflate';

/** Compressed bytes pushed per step: bounds how far a step can inflate past what is needed (deflate expands at
 * most ~1032x, so about 16 MB here). */
const STEP = 16 * 1024;

/** Inflates in steps until `enough(outLen)` or the stream ends; `out` receives at most `cap` bytes. */
function gunzipSteps(input: Uint8Array, cap: number, enough: (outLen: number) => boolean): Uint8Array {
  const chunks: Uint8Array[] = [];
  let outLen = 0;
  let ended = false;
  const gz = new Gunzip((chunk, final) => {
    if (final) ended = true;
    const n = Math.min(chunk.length, cap - outLen);
    if (n > 0) chunks.push(chunk.slice(0, n));
    outLen += n;
  });
  for (let o = 0; o < input.length && !enough(outLen) && !ended; o += STEP) gz.push(input.subarray(o, o + STEP), o + STEP >= input.length);
  const out = new Uint8Array(outLen);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

/**
 * Inflates `input` until `need(head)` bytes are out, where `head` is the first `headBytes` decompressed bytes (or
 * all of them, if the stream is shorter). `need` may throw to refuse the file. Returns at most `need` bytes;
 * fewer when the stream ends first. Throws the gzip error of a corrupt or truncated stream.
 */
export function gunzipBounded(input: Uint8Array, headBytes: number, need: (head: Uint8Array) => number): Uint8Array {
  const head = gunzipSteps(input, headBytes, (n) => n >= headBytes);
  const total = Math.max(0, need(head));
  try {
    const all = zlib.gunzipSync(input, { maxOutputLength: Math.max(total, 1) });
    return all.subarray(0, Math.min(all.length, total));
  } catch (e) {
    // more data in the stream than the header declares: inflate in steps and stop at the bound
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return gunzipSteps(input, total, (n) => n >= total);
    throw e;
  }
}
