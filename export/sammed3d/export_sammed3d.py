#!/usr/bin/env python3
"""Export a SAM-Med3D-family model (SAM-Med3D, SAM-Med3D-turbo, SegAnyPET) to two ONNX graphs and a UMD Lens card.

Run it with the model's own code (a source checkout: uni-medical/SAM-Med3D, or YichiZhang98/SegAnyPET's `code/`
folder, both holding `segment_anything/build_sam3D.py`) and its checkpoint, CPU or GPU:

    python export/sammed3d/export_sammed3d.py UPSTREAM_DIR sam_med3d_turbo.pth OUT_DIR [--name sam-med3d-turbo]
        [--model-type vit_b_ori] [--crop prompt|official]

Writes, in the contract of docs/foundation-models.md section 1:
  <name>.onnx           the image encoder: image [1, 1, 128, 128, 128] -> image_embeddings [1, 384, 8, 8, 8]
                        (utils/infer_utils.py sam_model_infer: model.image_encoder on the normalized crop)
  <name>.decoder.onnx   prompt encoder + mask decoder, one click step: image_embeddings, point_coords [1, N, 3]
                        (crop voxel indices in the tensor's axis order, all clicks so far), point_labels [1, N]
                        (1 positive, 0 negative), mask_inputs [1, 1, 32, 32, 32] (the previous step's logits, zeros
                        before the first) -> low_res_logits [1, 1, 32, 32, 32]; sam_model_infer then resizes them
                        to the crop (trilinear, align_corners False) and thresholds sigmoid at 0.5
  <name>.umd.json       the card

The prompt encoder is restated export-friendly (SamMed3DDecoder below): upstream's `_embed_points` assigns through
boolean masks (`point_embedding[labels == -1] = 0.0` ...), which torch.onnx.export turns into Where nodes that
onnxruntime rejects ("Where ... broadcast an axis by a dimension other than 1"); here the same arithmetic is done
with 0/1 masks, as Meta's 2D SAM ONNX wrapper does. The mask decoder is upstream's, with multimask_output=False (as
SAM-Med3D's train.py and SegAnyPET's train_cpcl.py call it). export/sammed3d/parity_case.py checks the graphs
against upstream's own inference loop with random weights.
"""
from __future__ import annotations

import argparse
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from exporter_io import strip_module, unwrap_state, write_card  # noqa: E402  (export/exporter_io.py)

CROP = (128, 128, 128)
SPACING = (1.5, 1.5, 1.5)  # validate_paired_img_gt(target_spacing=(1.5, 1.5, 1.5))


class ExportError(Exception):
    """A checkpoint or option this exporter cannot turn into a card; the message names the file and the problem."""


class SamMed3DEncoder(nn.Module):
    """sam_model_infer's `model.image_encoder(input_tensor)`: the crop goes in already normalized (no Sam3D.preprocess)."""

    def __init__(self, sam):
        super().__init__()
        self.image_encoder = sam.image_encoder

    def forward(self, image):
        return self.image_encoder(image)


class SamMed3DDecoder(nn.Module):
    """One click of sam_model_infer: PromptEncoder3D.forward(points, boxes=None, masks=prev_low_res_mask) in
    export-friendly arithmetic, then upstream's MaskDecoder3D with multimask_output=False."""

    def __init__(self, sam):
        super().__init__()
        self.pe = sam.prompt_encoder
        self.mask_decoder = sam.mask_decoder
        s = self.pe.input_image_size
        # PositionEmbeddingRandom3D.forward_with_coords divides coordinate a by image_size[a]
        self.register_buffer("coord_scale", torch.tensor([1.0 / s[0], 1.0 / s[1], 1.0 / s[2]], dtype=torch.float32), persistent=False)

    def forward(self, image_embeddings, point_coords, point_labels, mask_inputs):
        # _embed_points(pad=True, because boxes is None): one (0, 0, 0) point labelled -1 appended
        coords = torch.cat([point_coords + 0.5, torch.zeros_like(point_coords[:, :1])], dim=1)
        labels = torch.cat([point_labels, -torch.ones_like(point_labels[:, :1])], dim=1)
        emb = self.pe.pe_layer._pe_encoding(coords * self.coord_scale)
        pad = (labels == -1).to(emb.dtype).unsqueeze(-1)
        neg = (labels == 0).to(emb.dtype).unsqueeze(-1)
        pos = (labels == 1).to(emb.dtype).unsqueeze(-1)
        pe = self.pe.point_embeddings
        sparse = emb * (1 - pad) + pad * self.pe.not_a_point_embed.weight + neg * pe[0].weight + pos * pe[1].weight
        dense = self.pe.mask_downscaling(mask_inputs)
        low_res, _ = self.mask_decoder(image_embeddings=image_embeddings, image_pe=self.pe.get_dense_pe(),
                                       sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=False)
        return low_res


def export_graphs(sam, out_dir: str, name: str, crop=CROP, opset: int = 17) -> tuple[str, str, list[int], list[int]]:
    """Writes <name>.onnx (encoder) and <name>.decoder.onnx; returns their paths, the embedding shape and the
    low-res logits size."""
    os.makedirs(out_dir, exist_ok=True)
    enc = SamMed3DEncoder(sam).eval()
    dec = SamMed3DDecoder(sam).eval()
    image = torch.zeros((1, 1, *crop))
    enc_path = os.path.join(out_dir, f"{name}.onnx")
    dec_path = os.path.join(out_dir, f"{name}.decoder.onnx")
    with torch.no_grad():
        emb = enc(image)
        torch.onnx.export(enc, image, enc_path, input_names=["image"], output_names=["image_embeddings"], opset_version=opset)
        low_size = [c // 4 for c in crop]  # sam_model_infer's prev_low_res_mask: the crop / 4
        xs = (emb, torch.full((1, 1, 3), 64.0), torch.ones((1, 1)), torch.zeros((1, 1, *low_size)))
        low = dec(*xs)
        if list(low.shape[2:]) != low_size:
            raise ExportError(f"the decoder returns logits of {list(low.shape[2:])}, not the crop / 4 ({low_size}) that sam_model_infer feeds back")
        torch.onnx.export(dec, xs, dec_path, input_names=["image_embeddings", "point_coords", "point_labels", "mask_inputs"],
                          output_names=["low_res_logits"], dynamic_axes={"point_coords": {1: "n_points"}, "point_labels": {1: "n_points"}},
                          opset_version=opset)
    return enc_path, dec_path, list(emb.shape), low_size


def make_card(name: str, low_size: list[int], crop=CROP, crop_rule: str = "prompt", family: str = "SAM-Med3D") -> dict:
    return {
        "name": name,
        "description": f"{family} (SAM-Med3D architecture), exported by export/sammed3d: ViT image encoder once per {'x'.join(map(str, crop))} crop at 1.5 mm, prompt encoder + mask decoder per click with all clicks so far and the previous low-res logits",
        "kind": "promptable",
        "inputs": {"image": "image"},
        "outputs": {"logits": "low_res_logits"},
        "decoder": {"file": f"{name}.decoder.onnx", "embeddings": ["image_embeddings"]},
        "prompt": {"points": "point_coords", "pointLabels": "point_labels", "previousMask": {"input": "mask_inputs", "form": "logits"}},
        "logits": {"size": low_size, "upsample": "trilinear", "activation": "sigmoid"},
        "cropSize": list(crop),
        "spacing": list(SPACING),
        "patchSize": None,
        # torchio tensors are (x, y, z) voxel order after tio.ToCanonical (RAS+); points are torch.argwhere indices
        # of the same tensor
        "spatialOrder": "ijk",
        "orientation": "RAS",
        # tio.ZNormalization(masking_method=lambda x: x > 0) on the crop: statistics of the voxels above 0, every
        # voxel scaled with them
        "normalization": {"*": {"method": "zscore", "mask": {"above": 0}, "outside": "scaled"}},
        "cropNormalization": "crop",
        # random_sample_next_click(zeros, gt): a uniformly drawn voxel of the cropped organ
        "pointRule": "random",
        "crop": crop_rule,
        "labels": {"1": "prompted organ"},
        "training": {"upstream": {
            "family": family,
            "crop": "tio.CropOrPad(mask_name='label', target_shape=(128, 128, 128)): centred on the ground-truth organ (card crop 'official'); 'prompt' centres it on the first click instead",
            "resampling": "tio.Resample(target=1.5) of image and label, then tio.ToCanonical",
            "clicks": "sam_model_infer: each click runs the prompt encoder and mask decoder with every click so far and the previous low-res logits",
        }},
    }


def load_sam(upstream_dir: str, checkpoint: str, model_type: str = "vit_b_ori"):
    """The model as the family builds it (segment_anything.build_sam3D.sam_model_registry3D[model_type]), with the
    checkpoint's state dict (`model_state_dict` of a training checkpoint, DataParallel's `module.` prefix dropped), on CPU."""
    if not os.path.isfile(os.path.join(upstream_dir, "segment_anything", "build_sam3D.py")):
        raise ExportError(f"{upstream_dir}: no segment_anything/build_sam3D.py (a SAM-Med3D checkout, or SegAnyPET's code/ folder)")
    sys.path.insert(0, os.path.abspath(upstream_dir))
    from segment_anything.build_sam3D import sam_model_registry3D

    if model_type not in sam_model_registry3D:
        raise ExportError(f"--model-type {model_type}: not one of {sorted(sam_model_registry3D)}")
    sam = sam_model_registry3D[model_type](checkpoint=None)
    if not os.path.isfile(checkpoint):
        raise ExportError(f"{checkpoint}: checkpoint not found")
    state = torch.load(checkpoint, map_location="cpu")
    state = strip_module(unwrap_state(state, ("model_state_dict", "model")))
    missing, unexpected = sam.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ExportError(f"{checkpoint}: not a {model_type} SAM-Med3D checkpoint (missing {missing[:5]}..., unexpected {unexpected[:5]}...)")
    img = sam.image_encoder.img_size
    if img != CROP[0]:
        raise ExportError(f"--model-type {model_type}: image encoder size {img}, not the 128^3 crop SAM-Med3D's inference uses (use vit_b_ori)")
    return sam.eval()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("upstream_dir", help="SAM-Med3D checkout, or SegAnyPET's code/ folder (segment_anything/build_sam3D.py)")
    ap.add_argument("checkpoint", help="e.g. sam_med3d_turbo.pth")
    ap.add_argument("out_dir")
    ap.add_argument("--name", default="sam-med3d-turbo")
    ap.add_argument("--family", default="SAM-Med3D-turbo", help="written into the card's description (SAM-Med3D, SAM-Med3D-turbo, SegAnyPET)")
    ap.add_argument("--model-type", default="vit_b_ori", help="sam_model_registry3D key (vit_b_ori: 128^3, the released checkpoints)")
    ap.add_argument("--crop", choices=["prompt", "official"], default="prompt",
                    help="where the crop is centred: on the first click (default), or on the ground-truth organ as upstream's CropOrPad(mask_name='label') does (a leak; reproduces published numbers)")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args(argv)
    try:
        sam = load_sam(a.upstream_dir, a.checkpoint, a.model_type)
        enc_path, dec_path, emb_shape, low_size = export_graphs(sam, a.out_dir, a.name, opset=a.opset)
    except ExportError as e:
        print(f"export_sammed3d: {e}", file=sys.stderr)
        return 1
    card_path = write_card(a.out_dir, a.name, make_card(a.name, low_size, crop_rule=a.crop, family=a.family))
    print(f"wrote {enc_path}\nwrote {dec_path}\nwrote {card_path} (embeddings {emb_shape}, logits {low_size}, crop {a.crop})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
