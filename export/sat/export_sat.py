#!/usr/bin/env python3
"""Export SAT (zhaoziheng/SAT: SAT-Pro, SAT-Nano) to ONNX, precomputed text queries and a UMD Lens card.

Run it with SAT's own environment and checkout (its requirements: torch, einops, positional_encodings, transformers,
monai) and the two checkpoints SAT's README points to (the segmentation model and its text encoder):

    python export/sat/export_sat.py SAT_CHECKOUT SAT_Pro.pth text_encoder.pth OUT_DIR [--backbone UNET-L]
        [--biolord FremyCompany/BioLORD-2023-C] [--organ liver --organ "left kidney=kidney left" ...]
        [--modality CT --modality MRI --modality PET] [--name sat-pro]

Writes:
  <name>.onnx       image [1, 1, 288, 288, 96] (one channel; SAT's repeat to 3 channels is inside the graph) and
                    queries [N, 768] -> logits [1, N, 288, 288, 96]: Maskformer.forward(queries=[queries], image)
                    as SAT's inference_engine calls it, N dynamic
  <name>.text.f32   one 768-float row per (organ, modality): SAT's Knowledge_Encoder (BioLORD text tower, mean
                    pooling, projection, + modality embedding) of the organ's text, computed once here
  <name>.umd.json   a semantic card with prompt.text (docs/foundation-models.md section 4): the engine feeds the
                    rows of the N organs being evaluated, for the image's modality, as [N, 768]; channel n of the
                    output is the n-th asked organ, sigmoid > 0.5 each

SAT's own pipeline, and the card field for it: MONAI Orientation RAS (`orientation: "RAS"`), Spacing (1, 1, 3) mm
(`spacing`), arrays in (x, y, z) = nibabel order (`spatialOrder: "ijk"`), CT clipped to [-500, 1000] then z-scored
with the clipped volume's mean and std (`clip-zscore`), other modalities clipped to their 0.5 / 99.5 percentiles then
z-scored (`clip-zscore` with percentiles), 288 x 288 x 96 windows at half-window steps with a Gaussian (sigma 1/8)
blend of sigmoid probabilities (`patchSize`, `overlap` 0.5). Not reproduced: CropForeground before windowing, and
the blend of probabilities (the engine blends what the graph outputs, logits).
"""
from __future__ import annotations

import argparse
import os
import sys
import types

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from exporter_io import strip_module, write_card  # noqa: E402  (export/exporter_io.py)

CROP_SIZE = [288, 288, 96]
PATCH_SIZE = [32, 32, 32]
UMD_ORGANS = ["liver", "spleen", "left kidney", "right kidney", "heart", "aorta", "left lung", "right lung", "brain", "bladder", "stomach", "pancreas", "gallbladder"]
# model/text_encoder.py Text_Encoder.forward: modality_code_dict
MODALITY_CODE = {"CT": 0, "MRI": 1, "US": 2, "PET": 3}


class ExportError(Exception):
    """A checkpoint or option this exporter cannot turn into a card; the message names the file and the problem."""


class SATGraph(nn.Module):
    """One window: the 1-channel image repeated to SAT's 3 channels (Inference_Dataset: repeat 'b c h w d -> b (c r)
    h w d', r=3), then Maskformer.forward with one list of queries (infer_forward)."""

    def __init__(self, maskformer):
        super().__init__()
        self.maskformer = maskformer

    def forward(self, image, queries):
        return self.maskformer(queries=[queries], image_input=image.repeat(1, 3, 1, 1, 1))


def use_checkout(sat_dir: str) -> None:
    """SAT's modules on sys.path, with its vendored dynamic_network_architectures (its PlainConvUNet returns the
    skips and decoder outputs Maskformer needs; upstream's does not). train.dist.is_master needs torch.distributed
    only to print; without an initialised process group it is the master."""
    sys.path.insert(0, os.path.abspath(sat_dir))
    sys.path.insert(0, os.path.join(os.path.abspath(sat_dir), "model", "dynamic-network-architectures-main"))
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        m = types.ModuleType("train.dist")
        m.is_master = lambda: True
        sys.modules.setdefault("train", types.ModuleType("train"))
        sys.modules["train.dist"] = m


def load_state(path: str) -> dict:
    if not os.path.isfile(path):
        raise ExportError(f"{path}: checkpoint not found")
    ckpt = torch.load(path, map_location="cpu")
    if not isinstance(ckpt, dict) or "model_state_dict" not in ckpt:
        raise ExportError(f"{path}: not a SAT checkpoint (no model_state_dict)")
    return strip_module(ckpt["model_state_dict"])


def build_maskformer(backbone: str, checkpoint: str | None, crop_size=CROP_SIZE, patch_size=PATCH_SIZE):
    """Maskformer as build_maskformer makes it (without DDP and SyncBatchNorm, which inference does not need), with
    load_checkpoint's strict load of `model_state_dict`."""
    from model.maskformer import Maskformer

    net = Maskformer(backbone, list(crop_size), list(patch_size), False)
    if checkpoint:
        net.load_state_dict(load_state(checkpoint))
    return net.eval()


def export_graph(maskformer, out_dir: str, name: str, crop_size=CROP_SIZE, opset: int = 17) -> str:
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.onnx")
    g = SATGraph(maskformer).eval()
    image = torch.zeros((1, 1, *crop_size))
    queries = torch.zeros((2, 768))
    with torch.no_grad():
        torch.onnx.export(g, (image, queries), path, input_names=["image", "queries"], output_names=["logits"],
                          dynamic_axes={"queries": {0: "n_classes"}, "logits": {1: "n_classes"}}, opset_version=opset)
    return path


def text_queries(sat_text_ckpt: str, biolord: str, rows: list[tuple[str, str, str]]) -> np.ndarray:
    """Knowledge_Encoder.forward per row, as Text_Encoder loads it (partial load, the default of SAT's
    inference: atlas_tower and temperature dropped, matching shapes only) and on CPU: Text_Tower.forward moves the
    tokens to the current CUDA device, so its three steps are taken here on the model's device."""
    from model.knowledge_encoder import Knowledge_Encoder

    ke = Knowledge_Encoder(biolord).eval()
    state = {k: v for k, v in load_state(sat_text_ckpt).items() if "atlas_tower" not in k and "temperature" not in k}
    own = ke.state_dict()
    loaded = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    if not loaded:
        raise ExportError(f"{sat_text_ckpt}: no parameter matches SAT's Knowledge_Encoder")
    own.update(loaded)
    ke.load_state_dict(own)
    tower = ke.text_tower
    out = []
    with torch.no_grad():
        for _, text, modality in rows:
            tok = tower.tokenizer.tokenize([text])
            feat = tower.mean_pooling(tower.biolord(**tok), tok["attention_mask"])
            code = torch.tensor([MODALITY_CODE[modality]])
            out.append((ke.projection_layer(feat) + ke.modality_embed(code))[0].numpy())
    return np.stack(out).astype("<f4")


def make_card(name: str, backbone: str, rows: list[tuple[str, str, str]], text_file: str, crop_size=CROP_SIZE) -> dict:
    organs = list(dict.fromkeys(o for o, _, _ in rows))
    return {
        "name": name,
        "description": f"SAT ({backbone} backbone, zhaoziheng/SAT), exported by export/sat: text-prompted segmentation, one query per organ and modality precomputed with SAT's text encoder",
        "kind": "semantic",
        "inputs": {"image": "image"},
        "outputs": {"logits": "logits"},
        "prompt": {"text": {"input": "queries", "file": text_file, "dim": 768, "rows": [{"organ": o, "modality": m} for o, _, m in rows]}},
        "logits": {"activation": "sigmoid"},
        "patchSize": list(crop_size),
        "overlap": 0.5,
        "spatialOrder": "ijk",
        "orientation": "RAS",
        "spacing": [1.0, 1.0, 3.0],
        "normalization": {
            "ct": {"method": "clip-zscore", "lower": -500, "upper": 1000},
            "*": {"method": "clip-zscore", "lowerPercentile": 0.5, "upperPercentile": 99.5},
        },
        "labels": {str(i + 1): o for i, o in enumerate(organs)},
        "training": {"upstream": {
            "repository": "zhaoziheng/SAT",
            "backbone": backbone,
            "texts": {f"{o} ({m})": t for o, t, m in rows},
            "notReproduced": "CropForeground before windowing; SAT blends sigmoid probabilities (Gaussian, value scale 10, float16), the engine blends the graph's logits",
        }},
    }


def parse_rows(organs: list[str] | None, modalities: list[str] | None) -> list[tuple[str, str, str]]:
    rows = []
    for m in modalities or ["CT", "MRI", "PET"]:
        if m not in ("CT", "MRI", "PET"):
            raise ExportError(f"--modality {m}: must be CT, MRI or PET (the card's modalities)")
        for v in organs or UMD_ORGANS:
            organ, _, text = v.partition("=")
            rows.append((organ.strip(), (text or organ).strip(), m))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sat_dir", help="SAT source checkout (model/, data/)")
    ap.add_argument("checkpoint", help="SAT segmentation checkpoint (SAT-Pro: UNET-L backbone)")
    ap.add_argument("text_checkpoint", help="SAT text encoder checkpoint")
    ap.add_argument("out_dir")
    ap.add_argument("--backbone", default="UNET-L", choices=["UNET", "UNET-L", "UNET-H"], help="SAT-Pro: UNET-L; SAT-Nano: UNET")
    ap.add_argument("--biolord", default="FremyCompany/BioLORD-2023-C", help="the BioLORD model Knowledge_Encoder loads with AutoModel.from_pretrained (name or local folder)")
    ap.add_argument("--organ", action="append", help="organ (UMD name) or organ=text; repeatable; default the 13 UMD organs")
    ap.add_argument("--modality", action="append", help="CT, MRI or PET; repeatable; default all three")
    ap.add_argument("--name", default="sat")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args(argv)
    try:
        use_checkout(a.sat_dir)
        rows = parse_rows(a.organ, a.modality)
        onnx_path = export_graph(build_maskformer(a.backbone, a.checkpoint), a.out_dir, a.name, CROP_SIZE, a.opset)
        text_file = f"{a.name}.text.f32"
        text_queries(a.text_checkpoint, a.biolord, rows).tofile(os.path.join(a.out_dir, text_file))
        card = make_card(a.name, a.backbone, rows, text_file)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    card_path = write_card(a.out_dir, a.name, card)
    print(f"wrote {onnx_path}\nwrote {os.path.join(a.out_dir, text_file)}\nwrote {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
