/**
 * The layers of UMD Lens, checked by dependency-cruiser (`npm run lint:layers`, part of `npm run check` and `npm test`).
 *
 * A run flows dataset -> cases -> model run -> metrics -> run store -> analysis -> views. Each folder of src/core has
 * a rank; a folder imports only itself and folders of LOWER rank. Folders of one rank are independent of each other
 * (neither imports the other), so equal rank never hides a backwards import. Rules are per top-level folder of
 * src/core, so sub-folders (core/model/...) are covered by their folder's rank. A folder of src/core missing from
 * RANKS fails the check until it is given a rank here.
 *
 *  rank  folder      why there
 *  0     random      seeded, platform-independent randomness (Rng, hashSeed): pure arithmetic, imports nothing;
 *                    the phantom, the prompts and the bootstrap all draw from it
 *  1     geometry    grids, affines, volumes (voxels on a grid), resampling, the exact distance transform: the
 *                    vocabulary every later layer speaks, imports no file format
 *  2     nifti       reads and writes volumes as NIfTI files: needs geometry's types only
 *  3     dataset     organs and their names (synonyms, organ-name matching), discovering a dataset's cases: the
 *                    start of the flow; may read scans (nifti)
 *  4     phantom     the synthetic dataset (UMD-mini): writes cases in the dataset layout
 *  4     prompts     prompts made from a case's ground truth (center, random, box, clicks), before any model runs
 *  5     model       model cards, preprocessing, inference (sliding window, promptable): runs on a case, its
 *                    prompts and the dataset's organs
 *  5     metrics     scores a prediction against the ground truth: independent of how it was predicted
 *  6     runstore    run.json and cases.jsonl: records what the model, prompts and metrics produced (their types),
 *                    resume, shards, merge
 *  7     analysis    reads stored runs: summary, gap, comparisons, gates, statistics
 *  8     evaluate    orchestrates one run: dataset -> prompts -> model -> metrics -> run store, and its summary
 *  8     report      renders the analysis of stored runs (HTML, Markdown, CSV)
 *  9     engine      the engine process the extension talks to: evaluation, analysis, the demo dataset
 *
 * Above src/core: src/cli and src/extension, the two front ends, use any of core and never each other (the
 * extension reaches core/engine's protocol; core never imports vscode, the extension or the CLI). src/webview is a
 * browser bundle: it imports only src/viewerProtocol (the message contract it shares with the extension) and its
 * npm libraries, no Node built-ins. src/viewerProtocol imports nothing of src. No circular dependencies anywhere.
 *
 * Inside core/model, the same rule for its parts: card (what a checkpoint is and how to feed it) < preprocess (the
 * card's preprocessing) and inference (windows and blending, knows no card) < session.ts, predict.ts (a model run) <
 * promptable (a run per prompt, built on predict's normalization).
 *
 * Type-only imports count (tsPreCompilationDeps): a type imported backwards couples the layers as much as a value.
 */
const RANKS = {
  random: 0,
  geometry: 1,
  nifti: 2,
  dataset: 3,
  phantom: 4,
  prompts: 4,
  model: 5,
  metrics: 5,
  runstore: 6,
  analysis: 7,
  evaluate: 8,
  report: 8,
  engine: 9,
};

const FRONT_ENDS = ['cli', 'extension', 'webview', 'viewerProtocol'];
const folders = Object.keys(RANKS);
const alt = (names) => `(${names.join('|')})`;

/** Per core folder: no import of a folder of equal or higher rank (other than itself), nor of a front end. */
const layerRules = folders.map((folder) => {
  const notBelow = folders.filter((other) => other !== folder && RANKS[other] >= RANKS[folder]);
  const targets = [...notBelow.map((f) => `core/${f}`), ...FRONT_ENDS];
  return {
    name: `layer-${folder}`,
    severity: 'error',
    comment:
      `core/${folder} (rank ${RANKS[folder]}) may import only core folders of lower rank` +
      ` (${folders.filter((f) => RANKS[f] < RANKS[folder]).join(', ') || 'none'}); see the ranks in .dependency-cruiser.cjs`,
    from: { path: `^src/core/${folder}/` },
    to: { path: `^src/${alt(targets)}/` },
  };
});

/** core/model's parts, ranked like the core folders (files at the folder's top are the model run itself). */
const MODEL_PARTS = { card: 0, preprocess: 1, inference: 1, run: 2, promptable: 3 };
const modelPath = (part) => (part === 'run' ? '^src/core/model/[^/]+\\.ts$' : `^src/core/model/${part}/`);
const modelRules = Object.keys(MODEL_PARTS).flatMap((part) => {
  const notBelow = Object.keys(MODEL_PARTS).filter((o) => o !== part && MODEL_PARTS[o] >= MODEL_PARTS[part]);
  if (!notBelow.length) return []; // the top part may import any other
  return {
    name: `model-${part}`,
    severity: 'error',
    comment: `core/model/${part === 'run' ? '*.ts' : part} may import only the parts of core/model of lower rank; see MODEL_PARTS in .dependency-cruiser.cjs`,
    from: { path: modelPath(part), pathNot: '^src/core/model/index\\.ts$' },
    to: { path: notBelow.map(modelPath).join('|') },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    ...modelRules,
    {
      name: 'core-folder-without-rank',
      severity: 'error',
      comment: 'every top-level folder of src/core needs a rank in RANKS (.dependency-cruiser.cjs) before it is imported or imports',
      from: { path: '^src/core/', pathNot: `^src/core/${alt(folders)}/` },
      to: {},
    },
    {
      name: 'core-import-of-unranked-folder',
      severity: 'error',
      comment: 'every top-level folder of src/core needs a rank in RANKS (.dependency-cruiser.cjs)',
      from: { path: '^src/' },
      to: { path: '^src/core/', pathNot: `^src/core/${alt(folders)}/` },
    },
    {
      name: 'core-not-vscode',
      severity: 'error',
      comment: 'src/core runs in the engine process and the CLI, where there is no vscode module',
      from: { path: '^src/core/' },
      to: { path: '^vscode$|node_modules/@types/vscode/' },
    },
    {
      name: 'cli-not-extension',
      severity: 'error',
      comment: 'the CLI runs without VS Code: it uses core only',
      from: { path: '^src/cli/' },
      to: { path: '^src/(extension|webview)/|^vscode$|node_modules/@types/vscode/' },
    },
    {
      name: 'extension-not-cli',
      severity: 'error',
      comment: 'the extension and the CLI are two front ends of core: what both need belongs in core',
      from: { path: '^src/extension/' },
      to: { path: '^src/(cli|webview)/' },
    },
    {
      name: 'webview-only-protocol',
      severity: 'error',
      comment: 'the webview is a browser bundle: of src it imports only the message contract (src/viewerProtocol)',
      from: { path: '^src/webview/' },
      to: { path: '^src/', pathNot: '^src/(webview|viewerProtocol|types)/' },
    },
    {
      name: 'webview-not-node',
      severity: 'error',
      comment: 'the webview runs in a browser: no Node built-ins',
      from: { path: '^src/webview/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'webview-not-vscode',
      severity: 'error',
      comment: 'the webview talks to the extension through postMessage (acquireVsCodeApi), not the vscode module',
      from: { path: '^src/webview/' },
      to: { path: '^vscode$|node_modules/@types/vscode/' },
    },
    {
      name: 'protocol-is-neutral',
      severity: 'error',
      comment: 'src/viewerProtocol is the contract between the extension and the webview: it imports neither, nor core',
      from: { path: '^src/viewerProtocol/' },
      to: { path: '^src/', pathNot: '^src/viewerProtocol/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a cycle makes two modules one: whichever is read first sees the other half-initialized',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'an import that resolves to no file (but for the virtual module esbuild.mjs makes at build time: the surfel areas\' geometry)',
      from: {},
      to: { couldNotResolve: true, pathNot: '^surfel-area-vectors$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
