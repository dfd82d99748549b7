/** Where the windows go: MONAI's scan interval and window starts along one axis (steps 2 and 3 of slidingWindow.ts). */

/** MONAI `_get_scan_interval` for one axis (imageSize already padded to at least the patch). */
export function scanInterval(imageSize: number, patch: number, overlap: number): number {
  if (patch === imageSize) return patch;
  const interval = Math.floor(patch * (1 - overlap));
  return interval > 0 ? interval : 1;
}

/** MONAI `dense_patch_slices` window starts along one axis. */
export function windowStarts(imageSize: number, patch: number, interval: number): number[] {
  let count = 1;
  if (interval !== 0) {
    const num = Math.ceil(imageSize / interval);
    count = 1;
    for (let d = 0; d < num; d++) {
      if (d * interval + patch >= imageSize) {
        count = d + 1;
        break;
      }
    }
  }
  const starts: number[] = [];
  for (let idx = 0; idx < count; idx++) {
    const s = idx * interval;
    starts.push(s - Math.max(s + patch - imageSize, 0));
  }
  return starts;
}
