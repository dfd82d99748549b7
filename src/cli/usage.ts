/** Usage errors print the command's usage and exit 2; other failures exit 1 (see main.ts). */
export class UsageError extends Error {}

export const USAGE = `umd-lens: evaluate 3D segmentation checkpoints on paired PET/CT and PET/MRI scans

Usage:
  umd-lens evaluate <model.onnx> --data <dir> [--out <runDir>] [--runs <dir>] [--subjects a,b] [inference options]
                   [--protocol umd|cvpr25|umd-paper] [--tau <mm>|<organ>=<mm>,...] [--metric-threads N]
                   [--probabilities all|<organ>,...] [--max-volume-mb N] [--shard i/N] [--resume] [--json]
                   [--prompt center|random|box|clicks:N] [--prompt-seed N] [--box-jitter-mm X]
  umd-lens merge <shardRunDir>... --out <runDir> [--json]
  umd-lens predict <model.onnx> <image.nii.gz> --out <labels.nii.gz> [--modality CT|PET|MRI] [inference options]
                  [--probabilities <dir>] [--labels <labels.nii.gz> --prompt center|random|box|clicks:N
                  --prompt-seed N --box-jitter-mm X]   (--labels and --prompt: promptable models)
  umd-lens metrics <gt.nii.gz> <pred.nii.gz> [--labels 1,2,...] [--protocol umd|cvpr25] [--tau <mm>|<id>=<mm>,...]
                  [--threads N] [--json]
  umd-lens phantom --out <dir> [--subjects N] [--seed S]
  umd-lens demo [--data <dir>] [--model <model.onnx>] [--runs <dir>] [--json]
  umd-lens gap <runDir> [--metric dice|nsd] [--seed S] [--resamples N] [--threshold T] [--json]
  umd-lens compare <runDir> <baselineRunDir> [--metric dice|nsd] [--min-effect E] [--alpha A] [--seed S]
                  [--resamples N] [--json]
  umd-lens report <runDir> [--format json|csv|md|html] [--baseline <runDir>] [--out FILE]
  umd-lens gate <runDir> --gates <umd.gates.json> [--baseline <runDir>] [--json]
  umd-lens split --data <dir> --train N [--seed S] [--list train|test] [--json]
                 [--nnunet-raw <dir> [--modality CT|MRI|PET] [--study PETCT|PETMRI] [--dataset-id N] [--name X]]

Inference options: --device cpu|cuda (cuda needs onnxruntime-node's CUDA binaries: npm install with
  --onnxruntime-node-install=cuda12), --threads N (ONNX Runtime intra-op threads; default all cores),
  --overlap F (sliding-window overlap in [0, 1); default the card's, else 0.5), --batch N (windows per run when the
  model's batch dim is dynamic; default 1), --tta (mirroring test-time augmentation over all three axes, nnU-Net
  style: 8 runs per window) or --tta-axes 0,2 (mirror along these tensor axes only), --band-dtype float32|float16
  (storage of the sliding window's blending band; float16 halves it, argmax agreement in docs/benchmarks.md),
  --max-memory-gb X (largest memory one prediction may take, estimated from the image's header and the card before
  the image is read; default 75% of this machine's memory; over it: refused naming the file, the figures and the
  ways out, a case error in evaluate). --probabilities writes softmax
  maps (float32 .nii.gz, on the model's grid, streamed slab by slab): evaluate per case and organ under
  <runDir>/prob/<case>/<organ>.nii.gz, predict one per class of the card into <dir>.
  --max-volume-mb N: largest scan read (voxels x max(4, bytes per voxel), default 2048); a bigger one, or a header
  declaring one, is a case error before it is decompressed.

Sharding: --shard i/N (1 <= i <= N) evaluates the subjects dealt to shard i (sorted names, round-robin; all scans
  of a subject together); merge checks the N shard runs belong together and writes the unsharded run's files.
  --resume (with --out <runDir>) continues an interrupted run: finished cases are kept, the rest run.

Promptable models (card kind "promptable"): each organ is prompted on its own from its ground truth: --prompt
  center (interior point farthest from the boundary, the default), random (seeded interior point), box (bounding
  box, faces jittered by up to --box-jitter-mm), clicks:N (center click, then up to N-1 refinement clicks at the
  centre of the largest error region; Dice/NSD per click and their AUC in cases.jsonl). --prompt-seed seeds random
  and the jitter (default 0). --prompt on a semantic model is an error. predict needs --labels for a promptable
  model (prompts from each label's voxels) and writes the masks (label ids) plus <out>.prompts.json.

Metrics: dice, iou, nsd (surface Dice at tau mm), hd95, hd, assd (mm), volumes (mL), tp/fp/fn, with DeepMind
surface-distance semantics. Protocols: umd = tau 1 mm (default), cvpr25 = tau 2 mm; --tau overrides per organ.
  umd-paper = the UMD paper's protocol: tau 1 mm fixed (no --tau), promptable models one point per organ by the
  card's pointRule (random or center; --prompt-seed seeds it; --prompt and --box-jitter-mm refused), the crop as
  the card's crop says (prompt, or official = the ground truth box centre), all recorded in run.json.

Split: a seeded choice of --train N subjects (all scans of a subject on one side), the rest to evaluate
  (--list test gives them for --subjects); --nnunet-raw writes the training subjects' --modality scans as an
  nnU-Net v2 raw dataset (symlinks, dataset.json) for the supervised reference.

Analysis: gap = paired modality gap per organ (CT-PET, MRI-PET, CT-MRI) with bootstrap CI (seed 0, 10000
  resamples), Wilcoxon p and Holm across organs, --threshold = per-subject drop counted (default 0.1);
  compare = run vs baseline per organ and modality, regression/improvement when |mean diff| >= --min-effect
  (default 0.02) and p < --alpha (default 0.05); gate = thresholds from a umd.gates.json (exit 1 when any fails).

Exit codes: 0 success; 1 failure; 2 usage error; 3 run finished but some cases failed (listed).`;
