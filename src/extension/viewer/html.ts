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
</header>
<nav class="toolbar">
  <span class="control"><vscode-label for="organ">Organ</vscode-label><vscode-single-select id="organ" aria-label="Organ"></vscode-single-select></span>
  <span class="control"><vscode-label for="mode">Overlay</vscode-label><vscode-single-select id="mode" aria-label="Overlay">
    <vscode-option value="error" selected>Error map</vscode-option>
    <vscode-option value="overlay">Ground truth + prediction</vscode-option>
  </vscode-single-select></span>
  <span class="control legend error-only" id="legendError">
    <span class="swatch tp"></span>TP <span class="swatch fp"></span>FP (predicted, not in ground truth) <span class="swatch fn"></span>FN (missed)
  </span>
  <span class="control legend overlay-only"><span class="swatch gt"></span><vscode-checkbox id="showGt" checked>Ground truth</vscode-checkbox></span>
  <span class="control legend overlay-only"><span class="swatch pred"></span><vscode-checkbox id="showPred" checked>Prediction</vscode-checkbox></span>
  <span class="control"><vscode-label for="opacity">Opacity</vscode-label><vscode-single-select id="opacity" aria-label="Overlay opacity">
    <vscode-option value="25">25%</vscode-option><vscode-option value="40">40%</vscode-option><vscode-option value="55" selected>55%</vscode-option>
    <vscode-option value="70">70%</vscode-option><vscode-option value="85">85%</vscode-option><vscode-option value="100">100%</vscode-option>
  </vscode-single-select></span>
  <span class="control"><vscode-label for="colormap">Colormap</vscode-label><vscode-single-select id="colormap" aria-label="Image colormap">
    <vscode-option value="gray" selected>gray</vscode-option><vscode-option value="hot">hot</vscode-option><vscode-option value="inferno">inferno</vscode-option>
    <vscode-option value="viridis">viridis</vscode-option><vscode-option value="bone">bone</vscode-option>
  </vscode-single-select></span>
  <span class="control"><vscode-label for="sliceType">View</vscode-label><vscode-single-select id="sliceType" aria-label="View">
    <vscode-option value="multiplanar" selected>Multiplanar</vscode-option><vscode-option value="axial">Axial</vscode-option>
    <vscode-option value="coronal">Coronal</vscode-option><vscode-option value="sagittal">Sagittal</vscode-option><vscode-option value="render">3D render</vscode-option>
  </vscode-single-select></span>
  <vscode-button id="worst" secondary title="Move the crosshair to the axial slice with the most false positive + false negative voxels">Worst slice</vscode-button>
  <vscode-button id="centroid" secondary title="Move the crosshair to the centroid of the organ's ground truth">Centroid</vscode-button>
  <vscode-checkbox id="paired" title="The same subject's other scan beside this one, crosshairs linked">Paired view</vscode-checkbox>
</nav>
<main>
  <section class="pane" id="paneA"><div class="pane-title" id="paneATitle"></div><div class="canvas-box"><canvas id="gl"></canvas></div></section>
  <section class="pane" id="paneB" hidden><div class="pane-title" id="paneBTitle"></div><div class="canvas-box"><canvas id="gl2"></canvas><div id="pairMissing" class="missing" hidden></div></div></section>
</main>
<div id="status" role="status">Waiting for the case…</div>
<script nonce="${esc(o.nonce)}" src="${esc(o.scriptUri)}"></script>
</body>
</html>`;
}
