#!/usr/bin/env python3
"""Parity case for the SegVol exporter against the upstream code, with random weights.

    /usr/bin/python3 export/segvol/parity_case.py OUT_DIR --segvol CHECKOUT --monai CHECKOUT --einops CHECKOUT

CHECKOUT are source trees (put on sys.path, nothing installed): BAAI-DCAI/SegVol, Project-MONAI/MONAI at 0.9.0 (the
version SegVol's README pins; later ones dropped ViT's `pos_embed`), arogozhnikov/einops.

A small SegVol from the upstream classes (monai ViT with 1 layer, PromptEncoder, MaskDecoder with a 1-layer
TwoWayTransformer; the width stays 768 because the text path's Linear(768, 96) fixes it), window 16 x 64 x 32 with
patch 4 x 16 x 16, default PyTorch init, seed 0, wrapped in upstream's SegVol class (network/model.py) in
test_mode. The `transformers` package is not needed for that: the text encoder is replaced by a fixed random
768-vector (what the exporter's precomputed row stands for), and the module is stood in for at import only.

export_segvol.export_graphs writes the encoder and one decoder per prompt combination (text+point, point, text+box);
for each case the harness records SegVol.forward's full-resolution logits and, through a forward hook on the mask
decoder, the low-resolution ones the decoder graph must reproduce (and checks that the first is upstream's
trilinear resize of the second). Writes OUT_DIR/manifest.json; test/integration/exportSegvol.test.ts runs the graphs
in onnxruntime-node and compares.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SPATIAL = (16, 64, 32)
PATCH = (4, 16, 16)


def small_segvol():
    from monai.networks.nets import ViT
    from segment_anything_volumetric.modeling import MaskDecoder, PromptEncoder, TwoWayTransformer
    from network.model import SegVol

    torch.manual_seed(0)
    enc = ViT(in_channels=1, img_size=SPATIAL, patch_size=PATCH, hidden_size=768, mlp_dim=256, num_layers=1, num_heads=12, pos_embed="perceptron", classification=False, dropout_rate=0.0)
    emb_size = [int(s) for s in np.array(SPATIAL) / np.array(PATCH)]
    pe = PromptEncoder(embed_dim=768, image_embedding_size=emb_size, input_image_size=SPATIAL, mask_in_chans=16)
    dec = MaskDecoder(image_encoder_type="vit", num_multimask_outputs=3, transformer=TwoWayTransformer(depth=1, embedding_dim=768, mlp_dim=256, num_heads=8),
                      transformer_dim=768, iou_head_depth=3, iou_head_hidden_dim=256, image_size=np.array(SPATIAL), patch_size=np.array(PATCH))
    # SegVol.__init__ builds a CLIP text model (transformers) and moves losses to CUDA; test_mode inference uses
    # neither, so the instance is made without __init__ and given exactly the attributes forward() reads
    segvol = SegVol.__new__(SegVol)
    torch.nn.Module.__init__(segvol)
    segvol.image_encoder, segvol.mask_decoder, segvol.prompt_encoder = enc, dec, pe
    segvol.feat_shape = np.array(SPATIAL) / np.array(PATCH)
    segvol.test_mode = True
    text = torch.randn(1, 768, generator=torch.Generator().manual_seed(7))
    segvol.text_encoder = lambda t: None if t is None else text  # noqa: E731  (the precomputed row)
    return segvol.eval(), text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--segvol", required=True)
    ap.add_argument("--monai", required=True)
    ap.add_argument("--einops", required=True)
    a = ap.parse_args(argv)
    for p in (a.einops, a.monai, a.segvol, HERE):
        sys.path.insert(0, os.path.abspath(p))
    # network/model.py imports transformers' CLIP classes (used only by the text encoder, replaced below);
    # segment_anything_volumetric/__init__ imports the 2D predictor and mask generator, which import torchvision
    sys.path.insert(0, os.path.dirname(HERE))
    from parity_support import placeholders, stand_in  # noqa: E402

    stood_in = [m for m, names in [("transformers", ("AutoTokenizer", "CLIPTextModel", "CLIPTextConfig")),
                                   ("torchvision.transforms.functional", ("resize", "to_pil_image")),
                                   ("torchvision.ops.boxes", ("batched_nms", "box_area")),
                                   # utils/loss.py (the training losses network/model.py imports) imports pyplot
                                   ("matplotlib.pyplot", ())] if stand_in(m, **placeholders(*names))]
    import export_segvol  # noqa: E402

    torch.set_num_threads(2)
    os.makedirs(a.out_dir, exist_ok=True)
    segvol, text = small_segvol()
    rng = np.random.default_rng(3)
    image = torch.from_numpy(rng.random((1, 1, *SPATIAL), dtype=np.float32))
    image[..., 4:12, 20:44, 8:24] += 0.5  # something to find
    image.numpy().astype("<f4").tofile(os.path.join(a.out_dir, "image.f32"))

    captured = {}
    segvol.mask_decoder.register_forward_hook(lambda m, i, o: captured.__setitem__("low", o[0].detach().clone()))
    points = (torch.tensor([[[8.0, 30.0, 15.0], [3.0, 5.0, 28.0]]]), torch.tensor([[1.0, 0.0]]))
    box = torch.tensor([[4.0, 20.0, 8.0, 11.0, 43.0, 23.0]])
    cases_spec = [("text+point", {"text": "liver", "points": points}), ("point", {"points": points}), ("text+box", {"text": "liver", "boxes": box})]
    cases = []
    with torch.no_grad():
        emb = export_segvol.SegVolEncoder(segvol)(image)
        emb.numpy().astype("<f4").tofile(os.path.join(a.out_dir, "image_embeddings.f32"))
        for combo, kw in cases_spec:
            use = export_segvol.PROMPTS[combo]
            name = f"segvol-{combo.replace('+', '-')}"
            enc_path, dec_path, low_size = export_segvol.export_graphs(segvol, a.out_dir, name, use, SPATIAL)
            if combo != "text+point":  # one encoder graph is enough
                os.remove(enc_path)
            full = segvol(image, text=kw.get("text"), boxes=kw.get("boxes"), points=kw.get("points"))
            low = captured["low"]
            resize = float((F.interpolate(low, size=SPATIAL, mode="trilinear", align_corners=False) - full).abs().max())
            feeds = {}
            if "points" in use:
                feeds["points"] = points[0]
                feeds["point_labels"] = points[1]
            if "box" in use:
                feeds["box"] = box
            if "text" in use:
                feeds["text_embedding"] = text
            for k, v in feeds.items():
                v.numpy().astype("<f4").tofile(os.path.join(a.out_dir, f"{name}.{k}.f32"))
            low.numpy().astype("<f4").tofile(os.path.join(a.out_dir, f"{name}.low.f32"))
            card = export_segvol.make_card(name, use, low_size, SPATIAL, [("liver", "liver")] if "text" in use else None, f"{name}.text.f32" if "text" in use else None)
            if "text" in use:
                text.numpy().astype("<f4").tofile(os.path.join(a.out_dir, f"{name}.text.f32"))
            with open(os.path.join(a.out_dir, f"{name}.umd.json"), "w") as f:
                json.dump(card, f, indent=1)
            cases.append({"name": combo, "decoder": os.path.basename(dec_path), "card": f"{name}.umd.json", "feeds": {k: {"file": f"{name}.{k}.f32", "shape": list(v.shape)} for k, v in feeds.items()},
                          "low": f"{name}.low.f32", "lowShape": list(low.shape), "upstreamResizeMaxDiff": resize, "fullForeground": float((full > 0).float().mean())})
    manifest = {"encoder": "segvol-text-point.onnx", "image": "image.f32", "imageShape": [1, 1, *SPATIAL], "embeddings": "image_embeddings.f32", "embeddingsShape": list(emb.shape),
                "cases": cases, "standIns": stood_in}
    with open(os.path.join(a.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({"out": a.out_dir, "cases": [c["name"] for c in cases]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
