/**
 * Gzip decompression that never goes past a caller's limit: the NIfTI header is inflated from the first bytes of
 * the stream (gunzipHead), the caller decides from it how many bytes it needs (or
 * refuses the file) before the rest is inflated, and the rest is inflated with that bound by Node's zlib (several
 * times faster than a JavaScript inflater on whole-body volumes). A stream holding more than the header declares
 * is inflated in steps that stop at the bound. gunzipBoundedAsync does the same on libuv's thread pool, handing each
 * inflated chunk to the caller (the metrics command inflates its two label maps at once, into shared memory).
 */
import * as zlib from 'node:zlib';
import { Gunzip } from 'fflate';

/** Compressed bytes pushed per step: bounds how far a step can inflate past what is needed (deflate expands at
 * most ~1032x, so about 16 MB here). */
const STEP = 16 * 1024;

/** The first prefix of a stream longer than one STEP inflated for its header: a NIfTI header compresses to ~150
 * bytes; a longer prefix of a label map (which compresses ~400x) inflates hundreds of KB to get it. */
const HEAD_PREFIX = 256;

/** Inflates in steps of `step` compressed bytes until `enough(outLen)` or the stream ends; `out` receives at most
 * `cap` bytes. */
function gunzipSteps(input: Uint8Array, cap: number, enough: (outLen: number) => boolean, step = STEP): Uint8Array {
  const chunks: Uint8Array[] = [];
  let outLen = 0;
  let ended = false;
  const gz = new Gunzip((chunk, final) => {
    if (final) ended = true;
    const n = Math.min(chunk.length, cap - outLen);
    if (n > 0) chunks.push(chunk.slice(0, n));
    outLen += n;
  });
  for (let o = 0; o < input.length && !enough(outLen) && !ended; o += step) gz.push(input.subarray(o, o + step), o + step >= input.length);
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
  return gunzipUpTo(input, need(gunzipHead(input, headBytes)));
}

/** At most the first `total` decompressed bytes of `input`: the whole stream (its trailer checked) when it ends
 * before, else cut there with the rest never inflated. Throws the gzip error of a corrupt or truncated stream. */
export function gunzipUpTo(input: Uint8Array, bound: number): Uint8Array {
  const total = Math.max(0, bound);
  try {
    const all = zlib.gunzipSync(input, { maxOutputLength: Math.max(total, 1) });
    return all.subarray(0, Math.min(all.length, total));
  } catch (e) {
    // more data in the stream than the header declares: inflate in steps and stop at the bound
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return gunzipSteps(input, total, (n) => n >= total);
    throw e;
  }
}

/**
 * The first `headBytes` decompressed bytes (all of them if the stream is shorter). A stream of up to one STEP is
 * inflated whole, so that its truncation or corruption is the error; of a longer one, prefixes of growing length
 * (from HEAD_PREFIX compressed bytes, times 4) are inflated by Node's zlib with a sync flush (no end of stream
 * expected) until the header is out: native code, where fflate, in JavaScript not yet compiled, took 20-80 ms of the
 * metrics command's start for its two headers.
 */
export function gunzipHead(input: Uint8Array, headBytes: number): Uint8Array {
  if (input.length <= STEP) return zlib.gunzipSync(input).subarray(0, headBytes);
  for (let len = HEAD_PREFIX; ; len *= 4) {
    const prefix = input.subarray(0, Math.min(len, input.length));
    const out = zlib.gunzipSync(prefix, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (out.length >= headBytes || prefix.length === input.length) return out.subarray(0, headBytes);
  }
}

/** Where the inflated bytes go: `total` bytes are wanted; `write(chunk, at)` receives them in order. */
export interface InflateTarget {
  total: number;
  write(chunk: Uint8Array, at: number): void;
}

/** Output bytes per zlib step: large enough that the thread pool round trips cost nothing, small enough that the
 * bound is overshot by at most this much. */
const ASYNC_CHUNK = 1 << 20;

/**
 * gunzipBounded off the main thread: the header as there (fflate, the first bytes only, so its errors are the
 * same), then Node's zlib on libuv's thread pool, so that two files inflate in parallel, with each output chunk
 * handed to `plan(head).write` instead of being gathered and copied. Returns the number of bytes written (at most
 * `total`). Bound and errors as gunzipBounded's: a stream that ends within the bound is inflated to its end (its
 * CRC checked), one holding more is cut at the bound.
 */
export async function gunzipBoundedAsync(input: Uint8Array, headBytes: number, plan: (head: Uint8Array) => InflateTarget): Promise<number> {
  const target = plan(gunzipHead(input, headBytes));
  const total = Math.max(0, target.total);
  return new Promise<number>((resolve, reject) => {
    const gz = zlib.createGunzip({ chunkSize: ASYNC_CHUNK });
    let at = 0;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) reject(err);
      else resolve(Math.min(at, total));
    };
    gz.on('data', (chunk: Buffer) => {
      if (done) return;
      const n = Math.min(chunk.length, total - at);
      if (n > 0) target.write(n === chunk.length ? chunk : chunk.subarray(0, n), at);
      at += chunk.length;
      if (at > total) {
        // more data than the header declares: what is needed is out, the rest is never inflated
        finish();
        gz.destroy();
      }
    });
    gz.on('error', (e) => finish(e));
    gz.on('end', () => finish());
    gz.end(input);
  });
}
