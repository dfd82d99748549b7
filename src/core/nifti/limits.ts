/**
 * The memory limit of the NIfTI reader. A header declares its own size, and a hostile or corrupt one can ask for
 * terabytes; the reader checks the declaration against this limit before it decompresses or allocates the voxels.
 */

/** Default limit per volume, in MiB (umdLens.limits.maxVolumeMB, CLI --max-volume-mb). */
export const DEFAULT_MAX_VOLUME_MB = 2048;

export interface ReadLimits {
  /**
   * Largest volume accepted, in MiB, measured as voxels x max(4, bytes per stored voxel): the size of the
   * biggest array the reader allocates for it (images become float32). Default DEFAULT_MAX_VOLUME_MB.
   */
  maxVolumeMB?: number;
}

export function maxVolumeBytes(limits?: ReadLimits): number {
  const mb = limits?.maxVolumeMB ?? DEFAULT_MAX_VOLUME_MB;
  if (!(mb > 0) || !Number.isFinite(mb)) throw new Error(`maxVolumeMB must be a positive number (got ${mb})`);
  return mb * 1024 * 1024;
}

export const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(bytes < 1048576 * 10 ? 2 : 0)} MB`;
