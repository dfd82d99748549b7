#!/usr/bin/env python3
"""Parity case for the SAM-Med3D exporter against the upstream code, with random weights.

    /usr/bin/python3 export/sammed3d/parity_case.py OUT_DIR --sammed3d CHECKOUT [--clicks 5]

CHECKOUT is a uni-medical/SAM-Med3D source tree (or SegAnyPET's code/ folder), put on sys.path, nothing installed.

A small Sam3D from the upstream classes (ImageEncoderViT3D at 128^3 with patch 16 and the released relative
positions and window attention, but width 96 and 2 blocks; PromptEncoder3D and MaskDecoder3D exactly as
build_sam3D_vit_b_ori makes them), seed 0, default PyTorch init with the zero-initialised parameters (absolute and
relative position embeddings) given random values so every path carries signal.

The reference is upstream's own inference loop, utils/infer_utils.py `sam_model_infer(model, roi_image, roi_gt,
num_clicks=CLICKS)`, on a synthetic crop and organ, normalized as data_preprocess does (z_normalization below): it encodes the crop once, then per click draws the
next point with upstream's `random_sample_next_click` (seeded NumPy, as validate_paired_img_gt seeds it), runs the
prompt encoder and mask decoder with every click so far and the previous low-res logits, and returns the final
128^3 mask. A forward hook records each click's low-res logits; a wrapper records the points drawn. Two upstream
details are met as they are:
- infer_utils imports edt, SimpleITK and torchio at module level (the 'ritm' click rule, NIfTI reading, crops),
  segment_anything's __init__ the 2D SAM helpers that import torchvision; none is called on this path, so they
  are stood in for at import when absent;
- sam_model_infer calls `mask_decoder(...)` without `multimask_output`, which MaskDecoder3D.forward at this
  checkout requires; it is given False (what train.py passes, and the one-mask output the loop uses).

Writes OUT_DIR/manifest.json, the normalized crop (tensor order) and the raw one (i fastest, as the engine reads
a volume); test/integration/exportSammed3d.test.ts runs the exported graphs in onnxruntime-node on the first, and
the engine's own encoder-decoder path (crop, normalization, click feeds, resize, threshold) on the second, replaying
the recorded clicks, and compares.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from functools import partial

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CROP = (128, 128, 128)


def small_sam():
    from segment_anything.modeling import ImageEncoderViT3D, MaskDecoder3D, PromptEncoder3D, Sam3D

    torch.manual_seed(0)
    emb = CROP[0] // 16
    sam = Sam3D(
        image_encoder=ImageEncoderViT3D(depth=2, embed_dim=96, img_size=CROP[0], mlp_ratio=4, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=4,
                                        patch_size=16, qkv_bias=True, use_rel_pos=True, global_attn_indexes=[1], window_size=14, out_chans=384),
        prompt_encoder=PromptEncoder3D(embed_dim=384, image_embedding_size=(emb, emb, emb), input_image_size=CROP, mask_in_chans=16),
        mask_decoder=MaskDecoder3D(num_multimask_outputs=3, transformer_dim=384, iou_head_depth=3, iou_head_hidden_dim=256),
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375],
    )
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in sam.named_parameters():
            if "pos_embed" in name or "rel_pos" in name:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    return sam.eval()


def synthetic_crop() -> tuple[np.ndarray, torch.Tensor]:
    """A raw crop (background around 0, some voxels <= 0 as the z-score mask needs) with a brighter ellipsoid, and
    that ellipsoid as the organ (1, 1, 128^3), in tensor order (i, j, k)."""
    rng = np.random.default_rng(3)
    raw = rng.normal(0.3, 1.0, CROP).astype(np.float32)
    i, j, k = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in CROP], indexing="ij")
    organ = ((i - 60) / 22) ** 2 + ((j - 70) / 16) ** 2 + ((k - 58) / 28) ** 2 <= 1
    raw[organ] += 1.5
    return raw, torch.from_numpy(organ.astype(np.float32))[None, None]


def z_normalization(raw: np.ndarray) -> torch.Tensor:
    """tio.ZNormalization(masking_method=lambda x: x > 0), as data_preprocess applies it to the crop: mean and
    torch's (unbiased) std of the voxels above 0, applied to every voxel (torchio itself is not installed here)."""
    t = torch.from_numpy(raw)
    values = t[t > 0]
    return ((t - values.mean()) / values.std())[None, None]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--sammed3d", required=True)
    ap.add_argument("--clicks", type=int, default=5)
    a = ap.parse_args(argv)
    for p in (a.sammed3d, HERE, os.path.dirname(HERE)):
        sys.path.insert(0, os.path.abspath(p))
    from parity_support import STOOD_IN, placeholders, stand_in  # noqa: E402

    for m in ("edt", "SimpleITK", "torchio"):
        stand_in(m)
    # segment_anything/__init__ imports the 2D automatic mask generator and predictor, which import torchvision
    stand_in("torchvision.ops.boxes", **placeholders("batched_nms", "box_area"))
    stand_in("torchvision.transforms.functional", **placeholders("resize", "to_pil_image"))
    from utils import infer_utils  # noqa: E402  (upstream)

    import export_sammed3d  # noqa: E402

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    os.makedirs(a.out_dir, exist_ok=True)
    sam = small_sam()
    enc_path, dec_path, emb_shape, low_size = export_sammed3d.export_graphs(sam, a.out_dir, "sam-med3d-small")
    card_path = export_sammed3d.write_card(a.out_dir, "sam-med3d-small", export_sammed3d.make_card("sam-med3d-small", low_size))

    raw, organ = synthetic_crop()
    image = z_normalization(raw)
    image.numpy().astype("<f4").tofile(os.path.join(a.out_dir, "image.f32"))
    # the engine reads volumes i fastest (NIfTI order): the raw crop as it would come from a 1.5 mm RAS image
    raw.transpose(2, 1, 0).astype("<f4").tofile(os.path.join(a.out_dir, "raw_ifast.f32"))

    lows, clicks, embs = [], [], []
    sam.mask_decoder.forward = functools.partial(type(sam.mask_decoder).forward, sam.mask_decoder, multimask_output=False)
    sam.mask_decoder.register_forward_hook(lambda m, i, o: lows.append(o[0].detach().clone()))
    sam.image_encoder.register_forward_hook(lambda m, i, o: embs.append(o.detach().clone()))

    def recording_generator(prev_mask, gt_mask):
        point, label = infer_utils.random_sample_next_click(prev_mask, gt_mask)
        clicks.append({"point": [int(v) for v in point.reshape(3)], "label": int(label.reshape(()))})
        return point, label

    # validate_paired_img_gt seeds both generators before its loop
    torch.manual_seed(233)
    np.random.seed(233)
    mask, _ = infer_utils.sam_model_infer(sam, image, roi_gt=organ, prompt_generator=recording_generator, num_clicks=a.clicks)
    if len(embs) != 1 or len(lows) != a.clicks:
        raise SystemExit(f"upstream ran the encoder {len(embs)} times and the decoder {len(lows)} times for {a.clicks} clicks")
    embs[0].numpy().astype("<f4").tofile(os.path.join(a.out_dir, "image_embeddings.f32"))
    for k, low in enumerate(lows):
        low.numpy().astype("<f4").tofile(os.path.join(a.out_dir, f"click{k + 1}.low.f32"))
    np.asarray(mask, dtype=np.uint8).transpose(2, 1, 0).tofile(os.path.join(a.out_dir, "final_mask_ifast.u8"))

    manifest = {
        "encoder": os.path.basename(enc_path), "decoder": os.path.basename(dec_path), "card": os.path.basename(card_path),
        "image": "image.f32", "imageShape": [1, 1, *CROP], "embeddings": "image_embeddings.f32", "embeddingsShape": emb_shape,
        "clicks": clicks, "lows": [f"click{k + 1}.low.f32" for k in range(len(lows))], "lowShape": [1, 1, *low_size],
        "raw": "raw_ifast.f32", "finalMask": "final_mask_ifast.u8", "finalForeground": float(np.asarray(mask).mean()), "organFraction": float(organ.mean()),
        "standIns": STOOD_IN,
    }
    with open(os.path.join(a.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({"out": a.out_dir, "clicks": clicks, "finalForeground": manifest["finalForeground"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
