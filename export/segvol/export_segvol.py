#!/usr/bin/env python3
"""Export SegVol (BAAI-DCAI/SegVol) to two ONNX graphs, precomputed text embeddings and a UMD Lens card.

Run it with SegVol's own environment (its README: monai 0.9.0, transformers 4.18, torch >= 1.11) and checkout:

    python export/segvol/export_segvol.py SEGVOL_CHECKOUT SegVol_v1.pth OUT_DIR [--prompt text+point] [--name segvol]
        [--clip SEGVOL_CHECKOUT/config/clip] [--organ liver --organ "left kidney=kidney left" ...]

Writes, in the contract of docs/foundation-models.md (sections 1 and 4):
  <name>.onnx            the encoder: image [1, 1, 32, 256, 256] -> image_embeddings [1, 768, 8, 16, 16]
                         (SegVol.forward: image_encoder, then transpose(1, 2).view to the feature grid)
  <name>.decoder.onnx    prompt encoder + mask decoder for one prompt combination (--prompt): image_embeddings and
                         points [1, N, 3] + point_labels [1, N] and/or box [1, 6] and/or text_embedding [1, 768]
                         -> low_res_logits [1, 1, 32, 64, 64]; SegVol.forward_decoder then resizes them to the
                         crop (trilinear, align_corners False), which the card's `logits` block says
  <name>.text.f32        one 768-float row per organ: SegVol's TextEncoder (CLIP text model + dim_align of the
                         checkpoint) of "A computerized tomography of a {text}.", computed once here
  <name>.umd.json        the card

The prompt encoder is restated export-friendly (SegVolDecoder below): upstream's boolean-mask assignments
(`point_embedding[labels == -1] = 0.0` ...) are rewritten as the same arithmetic with 0/1 masks, which onnxruntime
accepts (the SAM-Med3D export met "Where ... broadcast" errors with them); the mask decoder is upstream's, called
as forward_decoder calls it. export/segvol/parity_case.py checks the graphs against upstream with random weights.

Not in the card, because the contract cannot say it yet (see README): SegVol's zoom-out-zoom-in (the whole volume
resized to 32 x 256 x 256, then sliding windows at full resolution over the zoom-out ROI), its normalization
(clip to the 0.05 / 99.95 percentiles of the voxels above the volume mean, then min-max to 0..1) and its RAS
orientation of crops. The card describes one window of 32 x 256 x 256 voxels at the image's own spacing centred on
the prompt: SegVol's zoom-in step for an organ that fits one window.
"""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from exporter_io import strip_module, unwrap_state, write_card  # noqa: E402  (export/exporter_io.py)

SPATIAL_SIZE = (32, 256, 256)
PATCH_SIZE = (4, 16, 16)
TEXT_TEMPLATE = "A computerized tomography of a {}."  # network/model.py TextEncoder.organ2tokens
UMD_ORGANS = ["liver", "spleen", "left kidney", "right kidney", "heart", "aorta", "left lung", "right lung", "brain", "bladder", "stomach", "pancreas", "gallbladder"]
PROMPTS = {"point": ("points",), "box": ("box",), "text": ("text",), "text+point": ("text", "points"), "text+box": ("text", "box")}


class ExportError(Exception):
    """A checkpoint or option this exporter cannot turn into a card; the message names the file and the problem."""


class SegVolEncoder(nn.Module):
    """SegVol.forward up to the image embedding."""

    def __init__(self, segvol):
        super().__init__()
        self.image_encoder = segvol.image_encoder
        self.feat_shape = [int(x) for x in segvol.feat_shape]

    def forward(self, image):
        emb, _ = self.image_encoder(image)
        return emb.transpose(1, 2).reshape(image.shape[0], -1, *self.feat_shape)


class SegVolDecoder(nn.Module):
    """SegVol.forward_decoder for one prompt combination, without the final resize: PromptEncoder.forward
    (_embed_points with pad=(no box), _embed_boxes, the text token, no mask) in export-friendly arithmetic, then
    upstream's mask decoder with multimask_output=False."""

    def __init__(self, segvol, use: tuple[str, ...]):
        super().__init__()
        self.pe = segvol.prompt_encoder
        self.mask_decoder = segvol.mask_decoder
        self.use = use
        s = self.pe.input_image_size
        # PositionEmbeddingRandom.forward_with_coords divides coordinate 0 by size[1], 1 by size[0], 2 by size[2]
        self.register_buffer("coord_scale", torch.tensor([1.0 / s[1], 1.0 / s[0], 1.0 / s[2]], dtype=torch.float32), persistent=False)

    def _encode(self, coords):
        return self.pe.pe_layer._pe_encoding(coords * self.coord_scale)

    def forward(self, image_embeddings, *prompts):
        p = dict(zip([u for u in ("points", "box", "text") if u in self.use], prompts))
        sparse = []
        if "points" in p:
            coords, labels = p["points"]
            coords = coords + 0.5
            if "box" not in p:  # pad=(boxes is None): one (0, 0, 0) point labelled -1
                coords = torch.cat([coords, torch.zeros_like(coords[:, :1])], dim=1)
                labels = torch.cat([labels, -torch.ones_like(labels[:, :1])], dim=1)
            emb = self._encode(coords)
            pad = (labels == -1).to(emb.dtype).unsqueeze(-1)
            neg = (labels == 0).to(emb.dtype).unsqueeze(-1)
            pos = (labels == 1).to(emb.dtype).unsqueeze(-1)
            pe = self.pe.point_embeddings
            emb = emb * (1 - pad) + pad * self.pe.not_a_point_embed.weight + neg * pe[0].weight + pos * pe[1].weight
            sparse.append(emb)
        if "box" in p:
            corners = (p["box"] + 0.5).reshape(-1, 2, 3)
            emb = self._encode(corners) + torch.cat([self.pe.point_embeddings[2].weight, self.pe.point_embeddings[3].weight], dim=0)
            sparse.append(emb)
        text = p.get("text")
        if text is not None:
            sparse.append(text.unsqueeze(1))
        sparse_embeddings = torch.cat(sparse, dim=1)
        size = [int(x) for x in self.pe.image_embedding_size]
        dense = self.pe.no_mask_embed.weight.reshape(1, -1, 1, 1, 1).expand(1, -1, *size)
        low_res, _ = self.mask_decoder(image_embeddings=image_embeddings, text_embedding=text, image_pe=self.pe.get_dense_pe(),
                                       sparse_prompt_embeddings=sparse_embeddings, dense_prompt_embeddings=dense, multimask_output=False)
        return low_res


class PointsPrompt(nn.Module):
    """Flattens (points, point_labels) into the decoder's tuple for torch.onnx.export."""

    def __init__(self, decoder: SegVolDecoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, image_embeddings, *xs):
        use = [u for u in ("points", "box", "text") if u in self.decoder.use]
        args, i = [], 0
        for u in use:
            if u == "points":
                args.append((xs[i], xs[i + 1]))
                i += 2
            else:
                args.append(xs[i])
                i += 1
        return self.decoder(image_embeddings, *args)


def input_names(use: tuple[str, ...]) -> list[str]:
    names = []
    for u in ("points", "box", "text"):
        if u in use:
            names += {"points": ["points", "point_labels"], "box": ["box"], "text": ["text_embedding"]}[u]
    return names


def dummy_prompts(use: tuple[str, ...], n_points: int = 1) -> list[torch.Tensor]:
    xs = []
    for u in ("points", "box", "text"):
        if u in use:
            if u == "points":
                xs += [torch.full((1, n_points, 3), 4.0), torch.ones((1, n_points))]
            elif u == "box":
                xs.append(torch.tensor([[2.0, 8.0, 8.0, 10.0, 40.0, 40.0]]))
            else:
                xs.append(torch.zeros((1, 768)))
    return xs


def export_graphs(segvol, out_dir: str, name: str, use: tuple[str, ...], spatial_size, opset: int = 17) -> tuple[str, str, list[int]]:
    """Writes <name>.onnx (encoder) and <name>.decoder.onnx; returns their paths and the low-res logits size."""
    os.makedirs(out_dir, exist_ok=True)
    enc = SegVolEncoder(segvol).eval()
    dec = PointsPrompt(SegVolDecoder(segvol, use)).eval()
    image = torch.zeros((1, 1, *spatial_size))
    enc_path = os.path.join(out_dir, f"{name}.onnx")
    dec_path = os.path.join(out_dir, f"{name}.decoder.onnx")
    with torch.no_grad():
        emb = enc(image)
        torch.onnx.export(enc, image, enc_path, input_names=["image"], output_names=["image_embeddings"], opset_version=opset)
        xs = dummy_prompts(use)
        low = dec(emb, *xs)
        dyn = {"points": {1: "n_points"}, "point_labels": {1: "n_points"}} if "points" in use else {}
        torch.onnx.export(dec, (emb, *xs), dec_path, input_names=["image_embeddings", *input_names(use)], output_names=["low_res_logits"],
                          dynamic_axes=dyn, opset_version=opset)
    return enc_path, dec_path, list(low.shape[2:])


def text_embeddings(segvol, texts: list[str]) -> np.ndarray:
    """SegVol's TextEncoder.forward, one text at a time, on the model's device (organ2tokens hard-codes .cuda())."""
    te = segvol.text_encoder
    device = next(te.parameters()).device
    rows = []
    with torch.no_grad():
        for t in texts:
            tokens = te.tokenizer([TEXT_TEMPLATE.format(t)], padding=True, return_tensors="pt")
            tokens = {k: v.to(device) for k, v in tokens.items()}
            rows.append(te.dim_align(te.clip_text_model(**tokens).pooler_output)[0].float().cpu().numpy())
    return np.stack(rows).astype("<f4")


def make_card(name: str, use: tuple[str, ...], low_res: list[int], spatial_size, organs: list[tuple[str, str]] | None, text_file: str | None) -> dict:
    prompt: dict = {}
    if "points" in use:
        prompt.update(points="points", pointLabels="point_labels")
    if "box" in use:
        prompt["box"] = "box"
    if "text" in use:
        prompt["text"] = {"input": "text_embedding", "file": text_file, "dim": 768, "rows": [{"organ": o} for o, _ in organs]}
    return {
        "name": name,
        "description": f"SegVol (BAAI-DCAI/SegVol), exported by export/segvol with {'+'.join(use)} prompts: ViT encoder once per window, prompt encoder + mask decoder per prompt. One zoom-in window of {'x'.join(map(str, spatial_size))} voxels at the image's spacing around the prompt; SegVol's zoom-out stage is not run (see export/segvol/README.md)",
        "kind": "promptable",
        "inputs": {"image": "image"},
        "outputs": {"logits": "low_res_logits"},
        "decoder": {"file": f"{name}.decoder.onnx", "embeddings": ["image_embeddings"]},
        "prompt": prompt,
        "logits": {"size": low_res, "upsample": "trilinear", "activation": "sigmoid"},
        "cropSize": list(spatial_size),
        "patchSize": None,
        "spacing": None,
        # process_ct_gt: Orientationd RAS, then DimTranspose swaps axes -1 and -3: (x, y, z) -> (z, y, x)
        "spatialOrder": "kji",
        "orientation": "RAS",
        "normalization": {"*": {"method": "minmax"}},
        # utils/monai_inferers_utils.py select_points: the positive point is a uniformly drawn organ voxel
        # (torch.randint over torch.nonzero of the label); the window is placed around the prompt
        "pointRule": "random",
        "crop": "prompt",
        "labels": {"1": "prompted organ"},
        "training": {"upstream": {
            "repository": "BAAI-DCAI/SegVol",
            "textTemplate": TEXT_TEMPLATE,
            "texts": {o: t for o, t in organs} if organs else None,
            "normalization": "ForegroundNormalization (clip to the 0.05 / 99.95 percentiles of the voxels above the volume mean, z-score by their mean and std) then MinMaxNormalization (0..1), over the whole volume; the card's minmax over the crop is an approximation",
            "zoomOutZoomIn": "not reproduced: SegVol resizes the whole foreground-cropped volume to 32x256x256 (zoom-out), predicts, then slides 32x256x256 windows at full resolution over the zoom-out ROI (zoom-in), with per-window boxes from the zoom-out mask",
        }},
    }


def parse_organs(values: list[str] | None) -> list[tuple[str, str]]:
    out = []
    for v in values or UMD_ORGANS:
        organ, _, text = v.partition("=")
        out.append((organ.strip(), (text or organ).strip()))
    return out


@contextmanager
def cuda_optional():
    """SegVol.__init__ moves its loss modules to CUDA; without CUDA, .cuda() is a no-op while it runs."""
    if torch.cuda.is_available():
        yield
        return
    saved = nn.Module.cuda
    nn.Module.cuda = lambda self, *a, **k: self  # type: ignore[assignment]
    try:
        yield
    finally:
        nn.Module.cuda = saved  # type: ignore[assignment]


def build_segvol(segvol_dir: str, checkpoint: str, clip_dir: str, spatial_size=SPATIAL_SIZE, patch_size=PATCH_SIZE):
    """SegVol as inference_demo.py builds it (sam_model_registry['vit'] + SegVol, test_mode) with the checkpoint's
    `model` state dict (DataParallel's `module.` prefix dropped), on CPU."""
    sys.path.insert(0, os.path.abspath(segvol_dir))
    from segment_anything_volumetric import sam_model_registry
    from network.model import SegVol

    args = SimpleNamespace(spatial_size=tuple(spatial_size), patch_size=tuple(patch_size))
    sam = sam_model_registry["vit"](args=args)
    with cuda_optional():
        segvol = SegVol(image_encoder=sam.image_encoder, mask_decoder=sam.mask_decoder, prompt_encoder=sam.prompt_encoder, clip_ckpt=clip_dir,
                        roi_size=args.spatial_size, patch_size=args.patch_size, test_mode=True)
    if not os.path.isfile(checkpoint):
        raise ExportError(f"{checkpoint}: checkpoint not found")
    state = torch.load(checkpoint, map_location="cpu")
    state = strip_module(unwrap_state(state, ("model",)))
    missing, unexpected = segvol.load_state_dict(state, strict=False)
    # CLIP's position_ids is a saved buffer in transformers 4.18 (SegVol's pin) and not saved in later versions
    unexpected = [k for k in unexpected if not k.endswith("embeddings.position_ids")]
    missing = [k for k in missing if not k.endswith("embeddings.position_ids")]
    if missing or unexpected:
        raise ExportError(f"{checkpoint}: not a SegVol checkpoint (missing {missing[:5]}..., unexpected {unexpected[:5]}...)")
    return segvol.eval()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("segvol_dir", help="SegVol source checkout (network/, segment_anything_volumetric/)")
    ap.add_argument("checkpoint", help="SegVol checkpoint (e.g. SegVol_v1.pth)")
    ap.add_argument("out_dir")
    ap.add_argument("--name", default="segvol")
    ap.add_argument("--prompt", choices=sorted(PROMPTS), default="text+point", help="the decoder's prompt combination (one graph each)")
    ap.add_argument("--clip", default=None, help="CLIP tokenizer folder (default SEGVOL_CHECKOUT/config/clip)")
    ap.add_argument("--organ", action="append", help="organ (UMD name) or organ=text for the text prompt; repeatable; default the 13 UMD organs")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args(argv)
    use = PROMPTS[a.prompt]
    try:
        segvol = build_segvol(a.segvol_dir, a.checkpoint, a.clip or os.path.join(a.segvol_dir, "config", "clip"))
        enc, dec, low = export_graphs(segvol, a.out_dir, a.name, use, SPATIAL_SIZE, a.opset)
        organs = parse_organs(a.organ) if "text" in use else None
        text_file = None
        if organs:
            text_file = f"{a.name}.text.f32"
            text_embeddings(segvol, [t for _, t in organs]).tofile(os.path.join(a.out_dir, text_file))
        card = make_card(a.name, use, low, SPATIAL_SIZE, organs, text_file)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    card_path = write_card(a.out_dir, a.name, card)
    print("\n".join(f"wrote {p}" for p in [enc, dec] + ([os.path.join(a.out_dir, text_file)] if text_file else []) + [card_path]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
