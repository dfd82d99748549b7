/** Usage errors print the command's usage and exit 2; other failures exit 1 (see main.ts). */
export class UsageError extends Error {}

export const USAGE = `umd-lens: evaluate 3D segmentation checkpoints on paired PET/CT and PET/MRI scans

Usage:
  umd-lens evaluate <model.onnx> --data <dir> [--out <runDir>] [--runs <dir>] [--subjects a,b] [--threads N]
                   [--protocol umd|cvpr25] [--tau <mm>|<organ>=<mm>,...] [--metric-threads N] [--json]
  umd-lens predict <model.onnx> <image.nii.gz> --out <labels.nii.gz> [--modality CT|PET|MRI] [--threads N]
  umd-lens metrics <gt.nii.gz> <pred.nii.gz> [--labels 1,2,...] [--protocol umd|cvpr25] [--tau <mm>|<id>=<mm>,...]
                  [--threads N] [--json]
  umd-lens phantom --out <dir> [--subjects N] [--seed S]
  umd-lens demo [--data <dir>] [--model <model.onnx>] [--runs <dir>] [--json]

Metrics: dice, iou, nsd (surface Dice at tau mm), hd95, hd, assd (mm), volumes (mL), tp/fp/fn, with DeepMind
surface-distance semantics. Protocols: umd = tau 1 mm (default), cvpr25 = tau 2 mm; --tau overrides per organ.

Exit codes: 0 success; 1 failure; 2 usage error; 3 run finished but some cases failed (listed).`;
