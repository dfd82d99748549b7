#!/usr/bin/env python3
"""Export VISTA3D's automatic (class-prompted) path to one ONNX graph and a UMD Lens card.

Run it with MONAI (any release with monai/networks/nets/vista3d.py: 1.4 or later, or a source checkout given with
--monai) and VISTA3D's checkpoint (the MONAI bundle's `models/model.pt`, or Project-MONAI/VISTA's
`model_monai1.3.pt`: the same state dict), CPU or GPU:

    python export/vista3d/export_vista3d.py OUT_DIR --checkpoint model.pt [--monai MONAI_CHECKOUT] [--name vista3d]
        [--vista VISTA_CHECKOUT] [--organ liver --organ "left lung=28,29" ...]
    python export/vista3d/export_vista3d.py OUT_DIR --random-small 8      # untrained, narrow: for tests only

Writes, in the contract of docs/foundation-models.md section 3:
  <name>.onnx      image [1, 1, D, H, W] float32 (D, H, W dynamic, multiples of 16; the card feeds 128^3) and
                   class_vector [N, 1] int64 (VISTA3D's global class ids, N dynamic) -> logits [N, 1, D, H, W]:
                   VISTA3D.forward(image, class_vector=class_vector) exactly, i.e. the image encoder's automatic
                   branch (SegResNetDS2 with_point=False), then ClassMappingClassify (the class embeddings through
                   the MLP, dotted with the post-mapped features). Raw logits, no sigmoid: VISTA3D returns them so
                   and VistaPostTransformd thresholds them at 0. Its InstanceNorm3d layers are exported with
                   their statistics taken axis by axis (StagedInstanceNorm3d: the same arithmetic, but within
                   1e-4 of PyTorch in onnxruntime, where InstanceNormalization over 128^3 is 2e-3 off)
  <name>.umd.json  a semantic card with classPrompt (the UMD organs' VISTA3D ids; lungs are lobes in VISTA3D, so
                   several ids map to one organ through organMap), sliding window 128^3 at overlap 0.625 (scripts/
                   infer.py), logits blended (VISTA3D's inferer blends raw logits), spacing 1.5 mm, RAS, (i, j, k)
                   tensor order, ScaleIntensityRanged(-963.82, 1053.68 -> 0..1, clip) for every modality

The point path (PointMappingSAM, point_coords / point_labels with -1 padding) is not exported: a semantic run
never has clicks. export/vista3d/parity_case.py checks the graph and the engine's sliding window against MONAI's
VISTA3D and sliding_window_inference with random weights.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from exporter_io import strip_module, unwrap_state, write_card  # noqa: E402  (export/exporter_io.py)
from onnx_norms import staged_norms  # noqa: E402  (export/onnx_norms.py)

PATCH = (128, 128, 128)  # configs/infer.yaml patch_size
SPACING = (1.5, 1.5, 1.5)  # resample_to_spacing
OVERLAP = 0.625  # scripts/infer.py sliding_window_inference(overlap=0.625, mode="gaussian")
# configs/infer.yaml ScaleIntensityRanged (the statistics of VISTA3D's CT training data, to full precision)
A_MIN, A_MAX = -963.8247715525971, 1053.678477684517
# UMD organ -> VISTA3D global class ids (vista3d/data/jsons/label_dict.json of Project-MONAI/VISTA at f73d7c2;
# the ids are the checkpoint's class embeddings, so they do not change with the checkout). VISTA3D has no whole
# lungs, only lobes: each lobe is asked and their union scores as the lung.
UMD_IDS = {
    "liver": {1: "liver"}, "spleen": {3: "spleen"}, "pancreas": {4: "pancreas"}, "right kidney": {5: "right kidney"},
    "aorta": {6: "aorta"}, "gallbladder": {10: "gallbladder"}, "stomach": {12: "stomach"},
    "left kidney": {14: "left kidney"}, "bladder": {15: "bladder"}, "brain": {22: "brain"},
    "left lung": {28: "left lung upper lobe", 29: "left lung lower lobe"},
    "right lung": {30: "right lung upper lobe", 31: "right lung middle lobe", 32: "right lung lower lobe"},
    "heart": {115: "heart"},
}


class ExportError(Exception):
    """A checkpoint or option this exporter cannot turn into a card; the message names the file and the problem."""


class Vista3DClassGraph(nn.Module):
    """VISTA3D.forward with class_vector only (no points): upstream's own forward, so its choices (the automatic
    decoder branch, no point head, no sigmoid, [N, 1, ...] without transpose) are the graph's."""

    def __init__(self, vista):
        super().__init__()
        self.vista = vista

    def forward(self, image, class_vector):
        return self.vista(image, class_vector=class_vector)


def use_monai(monai_dir: str | None) -> None:
    """MONAI from a source checkout when given (put first on sys.path), else the installed one."""
    if monai_dir:
        if not os.path.isfile(os.path.join(monai_dir, "monai", "networks", "nets", "vista3d.py")):
            raise ExportError(f"--monai {monai_dir}: no monai/networks/nets/vista3d.py (MONAI 1.4 or later has VISTA3D)")
        sys.path.insert(0, os.path.abspath(monai_dir))
    try:
        import monai.networks.nets.vista3d  # noqa: F401
    except ImportError as e:
        raise ExportError(f"cannot import monai.networks.nets.vista3d ({e}): install MONAI >= 1.4 or pass --monai CHECKOUT")


def load_state(path: str) -> dict:
    if not os.path.isfile(path):
        raise ExportError(f"{path}: checkpoint not found")
    ckpt = torch.load(path, map_location="cpu")
    ckpt = unwrap_state(ckpt, ("model", "state_dict", "model_state_dict"))
    if not isinstance(ckpt, dict):
        raise ExportError(f"{path}: not a VISTA3D state dict")
    state = strip_module(ckpt)
    if "class_head.class_embeddings.weight" not in state:
        raise ExportError(f"{path}: not a VISTA3D state dict (no class_head.class_embeddings.weight)")
    return state


def build_vista3d(checkpoint: str | None, feature_size: int = 48):
    """vista3d132 (the paper's network, as the MONAI bundle builds it), strictly loaded from `checkpoint` at the
    width its class embeddings have (48 for the released one); without one, untrained (PyTorch's default init) at
    `feature_size` channels."""
    from monai.networks.nets.vista3d import vista3d132

    state = load_state(checkpoint) if checkpoint else None
    if state is not None:
        feature_size = int(state["class_head.class_embeddings.weight"].shape[1])
    net = vista3d132(encoder_embed_dim=feature_size)
    if state is not None:
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise ExportError(f"{checkpoint}: does not fit vista3d132 at {feature_size} features: {str(e).splitlines()[0]}")
    return net.eval()


def export_graph(vista, out_dir: str, name: str, patch=PATCH, opset: int = 17) -> str:
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.onnx")
    g = Vista3DClassGraph(staged_norms(vista)).eval()
    # two classes while tracing: with one, class_embedding.squeeze() would drop the class axis as a constant
    example = (torch.zeros((1, 1, *patch)), torch.tensor([[1], [3]], dtype=torch.int64))
    with torch.no_grad():
        torch.onnx.export(g, example, path, input_names=["image", "class_vector"], output_names=["logits"],
                          dynamic_axes={"image": {2: "d", 3: "h", 4: "w"}, "class_vector": {0: "n_classes"},
                                        "logits": {0: "n_classes", 2: "d", 3: "h", 4: "w"}},
                          opset_version=opset)
    return path


def label_ids(organs: list[str] | None, vista_dir: str | None) -> dict[str, dict[int, str]]:
    """UMD organ -> {VISTA3D id: VISTA3D name}; `--organ NAME=ID,ID` sets the ids, names read from the checkout's
    label_dict.json when given (and the built-in table checked against it)."""
    table = None
    if vista_dir:
        f = os.path.join(vista_dir, "vista3d", "data", "jsons", "label_dict.json")
        if not os.path.isfile(f):
            f = os.path.join(vista_dir, "data", "jsons", "label_dict.json")
        if not os.path.isfile(f):
            raise ExportError(f"--vista {vista_dir}: no vista3d/data/jsons/label_dict.json")
        with open(f, encoding="utf-8") as fh:
            table = {int(v): k for k, v in json.load(fh).items()}
        for organ, ids in UMD_IDS.items():
            for i, n in ids.items():
                if table.get(i) != n:
                    raise ExportError(f"{f}: id {i} is {table.get(i)!r}, the exporter's table says {n!r} ({organ})")
    out: dict[str, dict[int, str]] = {}
    for v in organs or list(UMD_IDS):
        organ, _, ids = (s.strip() for s in v.partition("="))
        if not ids:
            if organ not in UMD_IDS:
                raise ExportError(f"--organ {organ}: not in the built-in table ({', '.join(UMD_IDS)}); give its ids: --organ \"{organ}=ID,ID\"")
            out[organ] = dict(UMD_IDS[organ])
            continue
        try:
            nums = [int(x) for x in ids.split(",")]
        except ValueError:
            raise ExportError(f"--organ {v}: ids must be integers separated by commas")
        out[organ] = {i: (table or {}).get(i, organ if len(nums) == 1 else f"{organ} {i}") for i in nums}
    return out


def make_card(name: str, organs: dict[str, dict[int, str]], patch=PATCH, description: str | None = None) -> dict:
    labels = {str(i): n for ids in organs.values() for i, n in sorted(ids.items())}
    organ_map = {n: organ for organ, ids in organs.items() for n in ids.values() if n != organ}
    card = {
        "name": name,
        "description": description or "VISTA3D (Project-MONAI/VISTA, network in MONAI), exported by export/vista3d: automatic segmentation asked by class id (class_vector)",
        "kind": "semantic",
        "inputs": {"image": "image"},
        "outputs": {"logits": "logits"},
        "classPrompt": {"input": "class_vector", "dtype": "int64"},
        "logits": {"activation": "sigmoid", "blend": "logits"},
        "patchSize": list(patch),
        "overlap": OVERLAP,
        "spatialOrder": "ijk",
        "orientation": "RAS",
        "spacing": list(SPACING),
        # ScaleIntensityRanged(a_min, a_max, b_min=0, b_max=1, clip=True) = (clip(x, a_min, a_max) - a_min) /
        # (a_max - a_min): the card's linear clip-and-scale (named for SUV, the same arithmetic). VISTA3D applies
        # its CT window to every image; so does the card
        "normalization": {"*": {"method": "suv-clip", "lower": A_MIN, "upper": A_MAX}},
        "labels": dict(sorted(labels.items(), key=lambda kv: int(kv[0]))),
        "training": {"upstream": {
            "repository": "Project-MONAI/VISTA (vista3d), network monai.networks.nets.vista3d.vista3d132",
            "inference": "scripts/infer.py: ScaleIntensityRanged then Orientationd RAS then Spacingd 1.5 (bilinear); sliding_window_inference roi 128^3, overlap 0.625, gaussian, sw_batch_size 1, amp; VistaPostTransformd",
            "notReproduced": "the window is clipped before resampling upstream, after it here; amp (float16 on GPU) upstream, float32 here; the point path (PointMappingSAM) is not exported",
        }},
    }
    if organ_map:
        card["organMap"] = organ_map
    return card


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="VISTA3D state dict (MONAI bundle models/model.pt, or VISTA's model_monai1.3.pt)")
    src.add_argument("--random-small", type=int, metavar="FEATURES", help="untrained vista3d132 with this many encoder features (tests only)")
    ap.add_argument("--monai", help="MONAI source checkout with monai/networks/nets/vista3d.py (default: the installed monai)")
    ap.add_argument("--vista", help="Project-MONAI/VISTA checkout: check the class ids against its label_dict.json")
    ap.add_argument("--organ", action="append", help="UMD organ, or organ=ID,ID (VISTA3D ids); repeatable; default the 13 UMD organs")
    ap.add_argument("--name", default="vista3d")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args(argv)
    try:
        use_monai(a.monai)
        organs = label_ids(a.organ, a.vista)
        if a.random_small is not None:
            torch.manual_seed(0)
        net = build_vista3d(a.checkpoint, a.random_small or 48)
        onnx_path = export_graph(net, a.out_dir, a.name, PATCH, a.opset)
        card = make_card(a.name, organs, PATCH, None if a.checkpoint else f"VISTA3D architecture, untrained ({a.random_small} features): for tests only")
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    card_path = write_card(a.out_dir, a.name, card)
    print(f"wrote {onnx_path}\nwrote {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
