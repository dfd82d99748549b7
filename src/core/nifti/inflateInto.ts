/**
 * Gzip inflated straight into a caller's buffer, synchronously: what a metrics worker runs to inflate a label map
 * into the SharedArrayBuffer it is then read from (src/core/metrics/surfaceTask.ts), so that the two maps of a case
 * inflate on two threads, each thread touching its buffer's fresh pages itself, with no chunk buffers and no copy.
 *
 * Why not the public API: Node's zlib has no call that inflates into a given buffer. `gunzipSync` returns a fresh
 * buffer (its pages faulted a first time, then again when copied into shared memory: on the benchmark's VM first
 * touches cost ~40 ms per 100 MB, as much as the inflate itself) and streams hand out a new chunk per MB. The loop
 * below is Node's own `processChunkSync` (lib/zlib.js, unchanged from Node 10 to 24) with the output pointed at the
 * caller's buffer: `_handle.writeSync(flush, in, inOff, inLen, out, outOff, outLen)` and the `_writeState` pair
 * (avail_out, avail_in) it leaves. Where that handle is not there (another runtime), `gunzipSync` and one copy give
 * the same bytes and the same errors.
 *
 * Semantics are `zlib.gunzipSync`'s (gzip members, trailing bytes, CRC and length checks, error messages), bounded:
 * output bytes [skip, skip + out.length) land in `out`; a stream that ends before is inflated to its end (its
 * trailer checked) and the length returned is short; a stream holding more is cut at the bound, and the rest of
 * it is never inflated. With `through` (see Through) the bytes meant for `out` are handed over a ring at a time.
 */
import * as zlib from 'node:zlib';
import { gunzipUpTo } from './gunzipBounded';

interface SyncHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
}

interface HandleParts { handle: SyncHandle; state: Uint32Array }

function handleOf(gz: zlib.Gunzip): HandleParts | undefined {
  const inner = gz as unknown as { _handle?: Partial<SyncHandle>; _writeState?: unknown };
  const handle = inner._handle;
  const state = inner._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) return undefined;
  return { handle: handle as SyncHandle, state };
}

/**
 * Where `out`'s bytes go instead of `out` itself: `ring`, handed to `flush(bytes, at)` each time it is full (and at
 * the end), `ring[0, bytes)` being `out[at, at + bytes)`. The caller writes `out` (a metrics worker scans the ring
 * while it is in the cache, and copies only what is not background into a map whose fresh pages are zero).
 */
export interface Through {
  ring: Uint8Array;
  flush(bytes: number, at: number): void;
}

/** Scratch for the bytes before `skip` (a NIfTI header: 352 or 544 bytes) and for the probe past the bound. */
const SCRATCH = 4096;

/**
 * Inflates the gzip stream `input` into `out`: decompressed bytes [skip, skip + out.length). Returns the length of
 * the decompressed stream up to that bound (skip + out.length, or less when the stream ends first; the bytes before
 * `skip` are dropped). Throws zlib's error of a corrupt or truncated stream. `direct: false` takes the public-API path (the fallback; tests compare the two).
 */
export function inflateIntoSync(input: Uint8Array, out: Uint8Array, skip: number, { direct = true, through }: { direct?: boolean; through?: Through } = {}): number {
  const gz = zlib.createGunzip();
  const parts = direct ? handleOf(gz) : undefined;
  if (!parts) {
    gz.close();
    return inflateByCopy(input, out, skip, through);
  }
  // zlib reports an error by destroying the stream (read from `errored` right after the call), which also emits
  // 'error' on a later tick: listened to, so that it is not thrown there as unhandled
  gz.on('error', () => undefined);
  const { handle, state } = parts;
  const scratch = new Uint8Array(Math.max(SCRATCH, skip));
  // the output goes to three places in turn: the skipped bytes, `out`, then one byte that tells whether there is more
  const phases: Array<[Uint8Array, number]> = [[scratch, skip], [out, out.length], [scratch, 1]];
  let phase = 0;
  let at = 0;
  let inOff = 0;
  let inLen = input.length;
  // with `through`, `out`'s bytes go to its ring, handed over each time it is full: bytes [flushed, at) are there
  let flushed = 0;
  const ring = through?.ring;
  try {
    for (;;) {
      const [target, end] = phases[phase];
      if (at === end) {
        if (phase === 1 && ring && at > flushed) { through!.flush(at - flushed, flushed); flushed = at; }
        // more data than the bound: cut here, the rest is never inflated
        if (phase === 2) return skip + out.length;
        phase++;
        at = 0;
        continue;
      }
      const viaRing = phase === 1 && ring !== undefined;
      const room = viaRing ? Math.min(end - at, ring.length - (at - flushed)) : end - at;
      handle.writeSync(zlib.constants.Z_FINISH, input, inOff, inLen, viaRing ? ring : target, viaRing ? at - flushed : at, room);
      if (gz.errored) throw gz.errored;
      const availOut = state[0];
      const availIn = state[1];
      at += room - availOut;
      inOff += inLen - availIn;
      inLen = availIn;
      if (viaRing && (at - flushed === ring.length || availOut !== 0) && at > flushed) { through!.flush(at - flushed, flushed); flushed = at; }
      // output left over: the stream has ended (its trailer checked) inside this phase
      if (availOut !== 0) return phase === 0 ? at : skip + (phase === 1 ? at : out.length);
    }
  } finally {
    gz.close();
  }
}

/** The same bytes through the public API: the synchronous reader's bounded gunzip, then one copy (or ring by ring). */
function inflateByCopy(input: Uint8Array, out: Uint8Array, skip: number, through?: Through): number {
  const all = gunzipUpTo(input, skip + out.length);
  const bytes = all.subarray(Math.min(skip, all.length));
  if (!through) out.set(bytes);
  else {
    for (let at = 0; at < bytes.length; at += through.ring.length) {
      const piece = bytes.subarray(at, at + through.ring.length);
      through.ring.set(piece);
      through.flush(piece.length, at);
    }
  }
  return all.length;
}
