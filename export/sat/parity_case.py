#!/usr/bin/env python3
"""Parity case for the SAT exporter against the upstream code, with random weights.

    /usr/bin/python3 export/sat/parity_case.py OUT_DIR --sat CHECKOUT --posenc CHECKOUT --einops CHECKOUT

CHECKOUT are source trees put on sys.path: zhaoziheng/SAT (with its vendored dynamic-network-architectures),
tatp22/multidim-positional-encoding (the positional_encodings package), arogozhnikov/einops.

Upstream's Maskformer with the SAT-Nano backbone ("UNET", 109 M parameters, He init as upstream does, seed 0) on a
64 x 64 x 32 window (patch_size 32: a 2 x 2 x 1 token grid; SAT-Pro's 288 x 288 x 96 with UNET-L would not fit a
CPU test), three random 768-d queries standing for the precomputed text rows (the text encoder needs transformers
and BioLORD's weights: not run). The reference is what SAT's inference engine computes for one window:
`model(queries=[queries], image_input=patch)` with the image repeated to 3 channels as Inference_Dataset does.
export_sat.export_graph writes the graph; OUT_DIR/manifest.json names the files for
test/integration/exportSat.test.ts.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
WINDOW = [64, 64, 32]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--sat", required=True)
    ap.add_argument("--posenc", required=True)
    ap.add_argument("--einops", required=True)
    a = ap.parse_args(argv)
    for p in (a.einops, a.posenc, HERE):
        sys.path.insert(0, os.path.abspath(p))
    import export_sat  # noqa: E402

    export_sat.use_checkout(a.sat)
    from einops import repeat  # noqa: E402

    torch.set_num_threads(2)
    os.makedirs(a.out_dir, exist_ok=True)
    torch.manual_seed(0)
    net = export_sat.build_maskformer("UNET", None, WINDOW, [32, 32, 32])
    rng = np.random.default_rng(5)
    image = torch.from_numpy(rng.normal(0, 1, (1, 1, *WINDOW)).astype(np.float32))
    image[..., 16:48, 20:44, 8:24] += 2.0
    queries = torch.from_numpy(rng.normal(0, 1, (3, 768)).astype(np.float32))
    with torch.no_grad():
        ref = net(queries=[queries], image_input=repeat(image, "b c h w d -> b (c r) h w d", r=3))
    path = export_sat.export_graph(net, a.out_dir, "sat-nano", WINDOW)
    rows = [("liver", "liver", "CT"), ("spleen", "spleen", "CT"), ("left kidney", "left kidney", "CT")]
    queries.numpy().astype("<f4").tofile(os.path.join(a.out_dir, "sat-nano.text.f32"))
    card = export_sat.make_card("sat-nano", "UNET", rows, "sat-nano.text.f32", WINDOW)
    with open(os.path.join(a.out_dir, "sat-nano.umd.json"), "w") as f:
        json.dump(card, f, indent=1)
    image.numpy().astype("<f4").tofile(os.path.join(a.out_dir, "image.f32"))
    ref.numpy().astype("<f4").tofile(os.path.join(a.out_dir, "logits.f32"))
    manifest = {"onnx": os.path.basename(path), "card": "sat-nano.umd.json", "image": "image.f32", "imageShape": list(image.shape),
                "queriesShape": list(queries.shape), "logits": "logits.f32", "logitsShape": list(ref.shape),
                "foreground": [float((ref[0, n] > 0).float().mean()) for n in range(ref.shape[1])]}
    with open(os.path.join(a.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({"out": a.out_dir, "onnxBytes": os.path.getsize(path)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
