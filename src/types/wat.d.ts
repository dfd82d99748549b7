/** WebAssembly text modules: esbuild.mjs compiles them with wabt at build time into their binary bytes. */
declare module '*.wat' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
