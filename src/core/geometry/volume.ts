/**
 * Volumes: voxel values on a grid. Beside the grid (affine.ts) rather than in nifti/, so that resampling works on
 * volumes without importing the file format, and nifti/ reads and writes them importing geometry only.
 */
import type { Grid } from './affine';

/** Voxel values in storage order (i fastest, then j, then k). */
export type VoxelData = Float32Array | Uint8Array | Uint16Array | Int16Array | Int32Array | Int8Array;

/** A 3D image or label map on its grid. Images hold calibrated values (scl_slope/inter applied). */
export interface Volume<T extends VoxelData = VoxelData> extends Grid {
  readonly data: T;
}

export type ImageVolume = Volume<Float32Array>;
/**
 * Intensities as the file stores them where that type holds them exactly (integers of 8 or 16 bits without
 * scl_slope/scl_inter: an int16 CT stays 2 bytes a voxel), else float32; see nifti/read.ts readImageStored.
 */
export type IntensityData = Float32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
export type StoredImageVolume = Volume<IntensityData>;
/** Integer labels; 0 is background. */
export type LabelVolume = Volume<Uint8Array | Uint16Array>;
