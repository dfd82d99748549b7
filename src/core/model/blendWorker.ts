/**
 * The second thread of the blending kernel (blendBand.ts): it shares the band's WebAssembly memory and adds its
 * half of a window's channels while the main thread adds the other half. Handshake through a shared control block
 * (blendBand.ts's CONTROL layout): wait for a new sequence number, run, publish it as done.
 */
import { workerData } from 'node:worker_threads';
import { CONTROL, type Kernel } from './blendBand';

const { module, memory, control } = workerData as { module: WebAssembly.Module; memory: WebAssembly.Memory; control: SharedArrayBuffer };
const k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernel;
const ctrl = new Int32Array(control);
const args = new Uint32Array(control, CONTROL.ARGS * 4, CONTROL.ARG_COUNT);
// from 0, not the current value: the first window may have been posted before this thread started
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, CONTROL.SEQ, seen);
  seen = Atomics.load(ctrl, CONTROL.SEQ);
  if (Atomics.load(ctrl, CONTROL.STOP)) break;
  const a = Array.from(args);
  k.accumulate(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13]);
  Atomics.store(ctrl, CONTROL.DONE, seen);
  Atomics.notify(ctrl, CONTROL.DONE);
}
