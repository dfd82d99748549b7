/** The surfel areas' unit-cube triangle area vectors per code, flattened: esbuild.mjs derives them at build time from
 * src/core/metrics/surfelGeometry.ts (deriveAreaVectors). */
declare module 'surfel-area-vectors' {
  const byCode: readonly (readonly number[])[];
  export default byCode;
}
