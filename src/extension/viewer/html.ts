/**
 * The viewer webview's HTML. Pure (no `vscode` import) so the headless-Chromium test serves exactly this page.
 *
 * Content-Security-Policy, all that NiiVue 0.69 + @vscode-elements need and nothing more:
 *  - default-src 'none'
 *  - script-src 'nonce-…': the one bundled script. No 'unsafe-eval': NiiVue never uses eval/new Function (its
 *    GLSL is compiled by WebGL, not JS). No 'wasm-unsafe-eval': the bundle does carry emscripten WebAssembly codecs
 *    (numcodecs blosc / lz4 / zstd, for OME-Zarr) that would need it, but NIfTI volumes never reach them.
 *  - style-src <cspSource>: media/viewer.css. Lit (vscode-elements) uses constructable stylesheets
 *    (adoptedStyleSheets), which CSP does not gate, so no 'unsafe-inline'.
 *  - img-src <cspSource> data: NiiVue loads its built-in font atlas from a data: URL (without it: blocked,
 *    and loading fails; checked by test/webview).
 *  - connect-src <cspSource>: NiiVue fetch()es the volumes from their webview URIs.
 *  - font-src <cspSource>.
 *  No worker-src/child-src (NiiVue 0.69 starts no workers), no 'unsafe-inline' anywhere; test/webview fails on
 *  any securitypolicyviolation.
 */
export interface ViewerHtmlOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function viewerCsp(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    `connect-src ${cspSource}`,
  ].join('; ');
}

export function newNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars.charAt(Math.floor(Math.random() * chars.length));
  return s;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function renderViewerHtml(o: ViewerHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(viewerCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${esc(o.styleUri)}">
<title>UMD Lens case</title>
</head>
<body>
<header>
  <h1 id="title">Loading…</h1>
  <span id="meta" class="meta"></span>
  <span class="control"><vscode-label for="organ">Organ</vscode-label><vscode-single-select id="organ" aria-label="Organ"></vscode-single-select></span>
  <span class="control legend"><span class="swatch gt"></span><vscode-checkbox id="showGt" checked>Ground truth</vscode-checkbox></span>
  <span class="control legend"><span class="swatch pred"></span><vscode-checkbox id="showPred" checked>Prediction</vscode-checkbox></span>
  <span class="control"><label for="opacity">Opacity</label><input id="opacity" type="range" min="0" max="100" value="55" aria-label="Overlay opacity"></span>
</header>
<main><canvas id="gl"></canvas></main>
<div id="status" role="status">Waiting for the case…</div>
<script nonce="${esc(o.nonce)}" src="${esc(o.scriptUri)}"></script>
</body>
</html>`;
}
