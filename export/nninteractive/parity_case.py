#!/usr/bin/env python3
"""Parity case for the nnInteractive exporter against the upstream code, with random weights.

    /usr/bin/python3 export/nninteractive/parity_case.py OUT_DIR --nninteractive CHECKOUT --dna CHECKOUT [--nnunet CHECKOUT]

CHECKOUT are source trees of MIC-DKFZ/nnInteractive, MIC-DKFZ/dynamic-network-architectures and (optional)
MIC-DKFZ/nnUNet; nothing is installed, they are put on sys.path. What it does, all on CPU in a few seconds:

1. A small nnInteractive-like model folder in OUT_DIR/model: plans.json whose configuration has an `architecture`
   block for dynamic_network_architectures' ResidualEncoderUNet (3 stages, patch 24 x 32 x 40: anisotropic so an axis
   mix-up shows), dataset.json with one channel, inference_info.json (points, 2D and 3D boxes, the session's default
   channel mapping), and fold_0/checkpoint_final.pth with random weights: the network built by nnU-Net's
   get_network_from_plans (when --nnunet is given, else the same class and kwargs directly) and initialised with
   its own `initialize` (He init), seeded.
2. The exporter (export_nninteractive.export, loader "plans") writes OUT_DIR/nninteractive.onnx + .umd.json.
3. Three network inputs built with the upstream interaction code where it can be imported:
   nnInteractive.interaction.point.PointInteraction_stub(radius, use_distance_transform=True).place_point, the
   session's box fill, its decay bookkeeping (intensity x 1/decay per interaction, divided out before the network)
   and its crop at zoom-out 1 ([c - p//2, c + p//2 + p%2), out-of-image voxels 0 after normalization):
     click1  a positive point, empty previous segmentation
     click2  a negative point near it, previous segmentation = the argmax of click1 pasted back (as the session's
             paste_tensor into prev_seg), click1 decayed to `decay`
     box     a 3D box
   plus `click1-contract`: click1's input with the point written as the contract's 0/1 ball of radiusVoxels
   (docs/foundation-models.md section 2) instead of upstream's distance-transform ball.
   The image is normalized as nnInteractiveInferenceSession._background_set_image does (mean and std over the
   bounding box of the nonzero voxels, applied to the whole image): that function cannot be imported without
   blosc2/acvl_utils, so those three lines are restated here.
4. The upstream PyTorch network's logits for each input.
Writes OUT_DIR/manifest.json naming, per case, the input and logits files (float32 little-endian, C order) and
shapes. test/integration/exportNninteractive.test.ts runs the .onnx on the inputs in onnxruntime-node and compares.

Packages absent here are stood in for (only when they cannot be imported), with the exact behaviour used:
skimage.morphology.ball (integer radius: x^2 + y^2 + z^2 <= r^2 on the grid -r..r, skimage's definition),
batchgeneratorsv2's sample_scalar (a number is returned as is) and batchgenerators' `join` (os.path.join).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PATCH = [24, 32, 40]
IMAGE_SHAPE = (40, 48, 56)
RADIUS = 4
DECAY = 0.98
N_INTERACTION = 7  # prev_seg + bbox +/- + points +/- + scribble +/- (the session's default mapping)
MAPPING = {"prev_seg": 0, "bbox": (1, 2), "points": (3, 4)}




def skimage_ball(radius, dtype=np.uint8, **_):
    r = int(radius)
    z, y, x = np.mgrid[-r:r + 1, -r:r + 1, -r:r + 1]
    return np.array(x * x + y * y + z * z <= r * r, dtype=dtype)


def skimage_disk(radius, dtype=np.uint8, **_):
    r = int(radius)
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return np.array(x * x + y * y <= r * r, dtype=dtype)


# --arch resenc-l: the depth and widths of nnU-Net's ResEnc-L plans (the family of the official checkpoint, whose
# patch is 192^3), on a 64^3 patch: a manual check of a full-depth network, ~100 M parameters, minutes on a CPU
RESENC_L = {"n_stages": 6, "features_per_stage": [32, 64, 128, 256, 320, 320], "kernel_sizes": [[3, 3, 3]] * 6,
            "strides": [[1, 1, 1]] + [[2, 2, 2]] * 5, "n_blocks_per_stage": [1, 3, 4, 6, 6, 6], "n_conv_per_stage_decoder": [1] * 5}
ARCH: dict = {}


def plans() -> dict:
    return {
        "dataset_name": "Dataset999_umdParity",
        "plans_name": "nnUNetResEncUNetPlans",
        "transpose_forward": [0, 1, 2],
        "transpose_backward": [0, 1, 2],
        "configurations": {
            "3d_fullres": {
                "patch_size": [64, 64, 64],
                "spacing": [1.0, 1.0, 1.0],
                "normalization_schemes": ["ZScoreNormalization"],
                "use_mask_for_norm": [False],
                "architecture": {
                    "network_class_name": "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet",
                    "arch_kwargs": {
                        "n_stages": 3,
                        "features_per_stage": [8, 16, 32],
                        "conv_op": "torch.nn.modules.conv.Conv3d",
                        "kernel_sizes": [[3, 3, 3]] * 3,
                        "strides": [[1, 1, 1], [2, 2, 2], [2, 2, 2]],
                        "n_blocks_per_stage": [1, 2, 2],
                        "n_conv_per_stage_decoder": [1, 1],
                        **ARCH,
                        "conv_bias": True,
                        "norm_op": "torch.nn.modules.instancenorm.InstanceNorm3d",
                        "norm_op_kwargs": {"eps": 1e-05, "affine": True},
                        "dropout_op": None,
                        "dropout_op_kwargs": None,
                        "nonlin": "torch.nn.LeakyReLU",
                        "nonlin_kwargs": {"inplace": True},
                    },
                    "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"],
                },
            },
            # as the official checkpoint: a patch-size configuration inheriting the architecture
            "3d_fullres_ps": {"inherits_from": "3d_fullres", "patch_size": PATCH},
        },
    }


def reference_network(p: dict, use_nnunet: bool) -> torch.nn.Module:
    import pydoc

    arch = p["configurations"]["3d_fullres"]["architecture"]
    n_in = 1 + N_INTERACTION
    if use_nnunet:
        from nnunetv2.utilities.get_network_from_plans import get_network_from_plans

        return get_network_from_plans(arch["network_class_name"], arch["arch_kwargs"], arch["_kw_requires_import"], n_in, 2, allow_init=True, deep_supervision=False)
    kwargs = dict(arch["arch_kwargs"])
    for k in arch["_kw_requires_import"]:
        if kwargs[k] is not None:
            kwargs[k] = pydoc.locate(kwargs[k])
    net = pydoc.locate(arch["network_class_name"])(input_channels=n_in, num_classes=2, deep_supervision=False, **kwargs)
    net.apply(net.initialize)
    return net


def write_model_folder(model_dir: str, use_nnunet: bool) -> torch.nn.Module:
    os.makedirs(os.path.join(model_dir, "fold_0"), exist_ok=True)
    p = plans()
    with open(os.path.join(model_dir, "plans.json"), "w") as f:
        json.dump(p, f, indent=1)
    with open(os.path.join(model_dir, "dataset.json"), "w") as f:
        json.dump({"channel_names": {"0": "CT"}, "labels": {"background": 0, "object": 1}, "numTraining": 1, "file_ending": ".nii.gz"}, f, indent=1)
    with open(os.path.join(model_dir, "inference_info.json"), "w") as f:
        json.dump({
            "inference_class": "nnInteractiveInferenceSession",
            "point_radius": RADIUS,
            "interaction_decay": DECAY,
            "interaction_channels": N_INTERACTION - 1,
            "supported_interactions": {"points": True, "bbox2d": True, "bbox3d": True, "scribble": True, "lasso": True},
        }, f, indent=1)
    torch.manual_seed(0)
    net = reference_network(p, use_nnunet).eval()
    torch.save({"network_weights": net.state_dict(), "trainer_name": "nnInteractiveTrainer_stub", "init_args": {"configuration": "3d_fullres_ps"}},
               os.path.join(model_dir, "fold_0", "checkpoint_final.pth"))
    return net


def test_image() -> np.ndarray:
    """A CT-like volume: a zero border (so the nonzero bounding box is smaller than the image), noise, a bright ellipsoid."""
    rng = np.random.default_rng(1)
    img = rng.normal(40.0, 20.0, IMAGE_SHAPE).astype(np.float32)
    z, y, x = np.meshgrid(*[np.arange(s) for s in IMAGE_SHAPE], indexing="ij")
    img[((z - 20) / 9.0) ** 2 + ((y - 26) / 11.0) ** 2 + ((x - 30) / 13.0) ** 2 <= 1] += 150.0
    img[:3] = 0
    img[:, -2:] = 0
    return img


def normalize_as_session(img: np.ndarray) -> torch.Tensor:
    """nnInteractiveInferenceSession._background_set_image: statistics over the nonzero bounding box, whole image."""
    t = torch.from_numpy(img.copy()).float()[None]
    nz = np.nonzero(img)
    bbox = tuple(slice(int(a.min()), int(a.max()) + 1) for a in nz)
    crop = t[(slice(0, 1), *bbox)]
    mean, std = crop.mean(), crop.std()
    return (t - mean) / std


def crop_at(t: torch.Tensor, centre) -> torch.Tensor:
    """The session's crop at zoom-out 1: [c - p//2, c + p//2 + p%2), zero-padded outside (crop_to_valid + pad_cropped)."""
    out = torch.zeros((t.shape[0], *PATCH), dtype=t.dtype)
    src, dst = [], []
    for c, p, s in zip(centre, PATCH, t.shape[1:]):
        lo, hi = c - p // 2, c + p // 2 + p % 2
        src.append(slice(max(lo, 0), min(hi, s)))
        dst.append(slice(max(lo, 0) - lo, min(hi, s) - lo))
    out[(slice(None), *dst)] = t[(slice(None), *src)]
    return out


class Session:
    """The interaction bookkeeping of nnInteractiveInferenceSession that the network input depends on."""

    def __init__(self, image: torch.Tensor, point):
        self.image = image
        self.point = point
        self.interactions = torch.zeros((N_INTERACTION, *image.shape[1:]), dtype=torch.float16)
        self.intensity = 1.0

    def _bump(self):  # _prepare_new_interaction_intensity
        self.intensity *= 1 / DECAY

    def add_point(self, c, positive: bool):
        self._bump()
        ch = MAPPING["points"][0 if positive else 1]
        self.point.place_point(c, self.interactions, channel_idx=ch, intensity_scale=self.intensity)
        return c

    def add_box(self, box, positive: bool = True):  # add_bbox_interaction, box [[lo, hi) x 3] inside the image
        centre = [round((a + b) / 2) for a, b in box]
        self._bump()
        ch = MAPPING["bbox"][0 if positive else 1]
        self.interactions[(ch, *[slice(a, b) for a, b in box])] = self.intensity
        return centre

    def network_input(self, centre) -> torch.Tensor:  # _build_network_input at zoom-out 1
        img = crop_at(self.image, centre)
        inter = crop_at(self.interactions, centre)
        for ch in range(inter.shape[0]):  # _normalize_interaction_channels_for_network_
            if ch != MAPPING["prev_seg"]:
                inter[ch] /= self.intensity
        return torch.cat((img, inter))[None].float()

    def paste_prediction(self, pred: torch.Tensor, centre):  # paste_tensor into prev_seg
        full = torch.zeros((1, *self.image.shape[1:]), dtype=torch.float16)
        dst, src = [], []
        for c, p, s in zip(centre, PATCH, self.image.shape[1:]):
            lo = c - p // 2
            dst.append(slice(max(lo, 0), min(lo + p, s)))
            src.append(slice(max(lo, 0) - lo, min(lo + p, s) - lo))
        self.interactions[(MAPPING["prev_seg"], *dst)] = pred[tuple(src)].half()


def contract_ball(shape, centre_in_crop, radius) -> torch.Tensor:
    """The contract's point channel: 1 where the crop voxel is within `radius` voxels of the click, else 0."""
    z, y, x = torch.meshgrid(*[torch.arange(s, dtype=torch.float32) for s in shape], indexing="ij")
    c = centre_in_crop
    return (((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) <= radius * radius).float()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--nninteractive", required=True)
    ap.add_argument("--dna", required=True)
    ap.add_argument("--nnunet", default=None)
    ap.add_argument("--arch", choices=["small", "resenc-l"], default="small", help="small (the test's, seconds) or resenc-l (64^3 patch, minutes)")
    a = ap.parse_args(argv)
    if a.arch == "resenc-l":
        ARCH.update(RESENC_L)
        PATCH[:] = [64, 64, 64]
    for p in [a.dna, a.nninteractive] + ([a.nnunet] if a.nnunet else []):
        sys.path.insert(0, os.path.abspath(p))
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.dirname(HERE))
    from parity_support import STOOD_IN, stand_in  # noqa: E402

    stand_in("skimage.morphology", ball=skimage_ball, disk=skimage_disk)
    stand_in("batchgeneratorsv2.helpers.scalar_type", sample_scalar=lambda v, *_, **__: v, RandomScalar=object)
    stand_in("batchgenerators.utilities.file_and_folder_operations", join=os.path.join)
    from nnInteractive.interaction.point import PointInteraction_stub  # noqa: E402  (upstream)

    import export_nninteractive  # noqa: E402

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    model_dir = os.path.join(a.out_dir, "model")
    ref = write_model_folder(model_dir, a.nnunet is not None)
    onnx_path, card_path, warnings = export_nninteractive.export(model_dir, a.out_dir, "nninteractive", None, "checkpoint_final.pth", "plans", "auto", 17)

    session = Session(normalize_as_session(test_image()), PointInteraction_stub(RADIUS, True))
    cases = []

    def record(name: str, x: torch.Tensor, note: str):
        with torch.no_grad():
            logits = ref(x)
        x.numpy().astype("<f4").tofile(os.path.join(a.out_dir, f"{name}.input.f32"))
        logits.numpy().astype("<f4").tofile(os.path.join(a.out_dir, f"{name}.logits.f32"))
        cases.append({"name": name, "input": f"{name}.input.f32", "inputShape": list(x.shape), "logits": f"{name}.logits.f32", "logitsShape": list(logits.shape), "note": note})
        return logits

    c1 = session.add_point((20, 26, 30), True)
    x1 = session.network_input(c1)
    l1 = record("click1", x1, "positive point, empty previous segmentation")
    # the contract's encoding of the same click: a 0/1 ball of radiusVoxels in crop voxels
    xc = x1.clone()
    xc[0, 1 + MAPPING["points"][0]] = contract_ball(PATCH, [p // 2 for p in PATCH], RADIUS)
    record("click1-contract", xc, "click1 with the point as the contract's 0/1 ball instead of upstream's distance-transform ball")
    session.paste_prediction(l1[0].argmax(0), c1)
    c2 = session.add_point((24, 30, 36), False)
    record("click2", session.network_input(c2), "negative point; previous segmentation = argmax of click1; click1 decayed")
    s2 = Session(session.image, session.point)
    cb = s2.add_box([[14, 27], [18, 35], [20, 41]])
    record("box", s2.network_input(cb), "3D box, nothing else")

    ball = torch.zeros((1, *IMAGE_SHAPE))
    PointInteraction_stub(RADIUS, True).place_point((20, 26, 30), ball, channel_idx=0)
    manifest = {
        "onnx": os.path.basename(onnx_path), "card": os.path.basename(card_path), "warnings": warnings, "cases": cases,
        "standIns": STOOD_IN, "referenceBuilder": "nnunetv2 get_network_from_plans" if a.nnunet else "dynamic_network_architectures class, pydoc.locate",
        "upstreamPointBall": {"voxels": int((ball > 0).sum()), "max": float(ball.max()), "minNonzero": float(ball[ball > 0].min())},
    }
    with open(os.path.join(a.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({"out": a.out_dir, "cases": [c["name"] for c in cases], "standIns": STOOD_IN}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
