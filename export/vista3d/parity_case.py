#!/usr/bin/env python3
"""Parity case for the VISTA3D exporter against MONAI's VISTA3D, with random weights.

    /usr/bin/python3 export/vista3d/parity_case.py OUT_DIR --monai MONAI_CHECKOUT [--vista VISTA_CHECKOUT] [--features 8]

MONAI_CHECKOUT is a Project-MONAI/MONAI source tree with monai/networks/nets/vista3d.py (1.4 or later; MONAI 0.9.0
has none), put first on sys.path, nothing installed. VISTA_CHECKOUT (optional) is Project-MONAI/VISTA: the card's
class ids are then checked against its label_dict.json.

The network is upstream's own vista3d132 (SegResNetDS2 encoder with blocks (1, 2, 2, 4, 4), ClassMappingClassify
with the MLP, PointMappingSAM) at `--features` channels instead of 48, seed 0, PyTorch's default init. Two references:
- one window: `VISTA3D.forward(image, class_vector=[[1], [3], [14]])` on a 128^3 patch already in 0..1, the graph's
  exact computation;
- a whole volume, as Project-MONAI/VISTA's scripts/infer.py runs the automatic path: a CT-like volume in HU on a
  1.5 mm RAS grid (so Orientationd and Spacingd are the identity), ScaleIntensityRanged(-963.82, 1053.68 -> 0..1,
  clip) on the whole volume, MONAI's sliding_window_inference(roi 128^3, sw_batch_size 1, overlap 0.625, mode
  gaussian) of infer_wrapper (forward, then transpose(1, 0)) with class_vector the list of ids as a tensor, then
  VistaPostTransformd with that label_prompt (the largest logit's id where it is > 0, else 0); amp is off (CPU).

Writes OUT_DIR/manifest.json with the files: the patch and its logits (tensor order), the raw volume (i fastest, as
the engine reads a volume) and upstream's label map of it (i fastest, uint8 VISTA3D ids);
test/integration/exportVista3d.test.ts runs the graph in onnxruntime-node on the first and the engine's own
sliding window (predictClasses) on the second, and compares.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from functools import partial

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PATCH_CLASSES = [1, 3, 14]  # liver, spleen, left kidney
VOLUME = (128, 128, 176)  # (i, j, k) at 1.5 mm: two windows along k at overlap 0.625
VOLUME_CLASSES = [1, 3, 14, 115]


def blobs(shape, rng, n=6):
    """A smooth synthetic scene: ellipsoids of varied intensity on a noisy background, in the units given after."""
    grids = np.meshgrid(*[np.arange(s, dtype=np.float32) for s in shape], indexing="ij")
    out = np.zeros(shape, np.float32)
    for _ in range(n):
        c = [rng.uniform(0.2 * s, 0.8 * s) for s in shape]
        r = [rng.uniform(0.08 * s, 0.25 * s) for s in shape]
        d = sum(((g - ci) / ri) ** 2 for g, ci, ri in zip(grids, c, r))
        out += rng.uniform(0.3, 1.0) * (d < 1)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--monai", required=True)
    ap.add_argument("--vista")
    ap.add_argument("--features", type=int, default=8)
    a = ap.parse_args(argv)
    sys.path.insert(0, HERE)
    import export_vista3d  # noqa: E402

    export_vista3d.use_monai(a.monai)
    from monai.apps.vista3d.transforms import VistaPostTransformd  # noqa: E402
    from monai.inferers import sliding_window_inference  # noqa: E402
    from monai.transforms import ScaleIntensityRange  # noqa: E402

    torch.set_num_threads(2)
    os.makedirs(a.out_dir, exist_ok=True)
    organs = export_vista3d.label_ids(None, a.vista)
    torch.manual_seed(0)
    net = export_vista3d.build_vista3d(None, a.features)
    # the --checkpoint path: a state dict saved as DDP training does ("module." prefixes) loads back, width read
    ckpt = os.path.join(a.out_dir, "small.pt")
    torch.save({"model": {f"module.{k}": v for k, v in net.state_dict().items()}}, ckpt)
    back = export_vista3d.build_vista3d(ckpt)
    loaded = all(torch.equal(v, back.state_dict()[k]) for k, v in net.state_dict().items())
    os.remove(ckpt)
    path = export_vista3d.export_graph(net, a.out_dir, "vista3d-small")
    card = export_vista3d.make_card("vista3d-small", organs, description=f"VISTA3D architecture, untrained ({a.features} features): parity test")
    with open(os.path.join(a.out_dir, "vista3d-small.umd.json"), "w") as f:
        json.dump(card, f, indent=1)
    rng = np.random.default_rng(7)

    # one window, the graph's own computation
    patch = np.clip(blobs(export_vista3d.PATCH, rng) + rng.normal(0.2, 0.05, export_vista3d.PATCH), 0, 1).astype(np.float32)
    image = torch.from_numpy(patch)[None, None]
    cv = torch.tensor([[c] for c in PATCH_CLASSES])
    with torch.no_grad():
        ref = net(image, class_vector=cv)
    image.numpy().astype("<f4").tofile(os.path.join(a.out_dir, "patch.f32"))
    ref.numpy().astype("<f4").tofile(os.path.join(a.out_dir, "patch.logits.f32"))

    # a whole volume through VISTA's automatic inference (scripts/infer.py infer_everything)
    hu = (-1000 + 1400 * blobs(VOLUME, rng, 8) + rng.normal(0, 30, VOLUME)).astype(np.float32)
    vol = torch.from_numpy(hu)[None]  # channel first, (i, j, k): LoadImaged + EnsureChannelFirstd
    vol = ScaleIntensityRange(a_min=export_vista3d.A_MIN, a_max=export_vista3d.A_MAX, b_min=0.0, b_max=1.0, clip=True)(vol)

    def infer_wrapper(inputs, model, **kwargs):
        return model(input_images=inputs, **kwargs).transpose(1, 0)

    with torch.no_grad():
        pred = sliding_window_inference(inputs=torch.as_tensor(vol)[None], roi_size=list(export_vista3d.PATCH), sw_batch_size=1,
                                        predictor=partial(infer_wrapper, model=net), mode="gaussian", overlap=export_vista3d.OVERLAP,
                                        class_vector=torch.tensor(VOLUME_CLASSES))
    blended = torch.as_tensor(pred)[0]  # [N, i, j, k]
    labels = VistaPostTransformd(keys="pred")({"pred": blended.clone(), "label_prompt": torch.tensor(VOLUME_CLASSES)})["pred"][0]
    labels = torch.as_tensor(labels).numpy().astype(np.uint8)
    hu.T.astype("<f4").tofile(os.path.join(a.out_dir, "volume.f32"))
    labels.T.tofile(os.path.join(a.out_dir, "volume.labels.u8"))
    counts = {str(c): int((labels == c).sum()) for c in [0, *VOLUME_CLASSES]}
    near = float((blended.abs().min(0).values < 1e-3).float().mean())
    manifest = {
        "onnx": os.path.basename(path), "card": "vista3d-small.umd.json", "features": a.features,
        "patch": "patch.f32", "patchShape": list(image.shape), "patchClasses": PATCH_CLASSES,
        "logits": "patch.logits.f32", "logitsShape": list(ref.shape),
        "foreground": [float((ref[n] > 0).float().mean()) for n in range(ref.shape[0])],
        "volume": "volume.f32", "volumeDims": list(VOLUME), "spacing": list(export_vista3d.SPACING),
        "volumeClasses": VOLUME_CLASSES, "volumeLabels": "volume.labels.u8", "labelCounts": counts,
        "nearZeroFraction": near, "checkedLabelDict": bool(a.vista), "checkpointLoads": loaded,
    }
    with open(os.path.join(a.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({"out": a.out_dir, "onnxBytes": os.path.getsize(path), "labelCounts": counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
