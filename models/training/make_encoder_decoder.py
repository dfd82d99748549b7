#!/usr/bin/python3
"""A self-built encoder + decoder pair with SAM-Med3D's tensor signatures (docs/foundation-models.md, section 1).

  /usr/bin/python3 models/training/make_encoder_decoder.py

Not trained: a plumbing model whose output follows from its inputs in a way a test can reason about, built from
cheap fixed operations and seeded random 1x1 convolutions. It writes

  models/sam-med3d-style.{onnx, decoder.onnx, umd.json}   SAM-Med3D's exact, static signatures (the card's own
      .onnx is the encoder):
      encoder  image [1,1,128,128,128] -> image_embeddings [1,384,8,8,8]
      decoder  image_embeddings [1,384,8,8,8], point_coords [1,N,3] float32, point_labels [1,N] float32 (N dynamic),
               mask_inputs [1,1,32,32,32] (the previous low-res logits) -> low_res_logits [1,1,32,32,32]
  test/fixtures/encoder-decoder/fast.{onnx, decoder.onnx}   the same graphs with dynamic spatial axes, for 64^3
      crops in tests (embeddings [1,384,4,4,4], logits and mask_inputs [1,1,16,16,16]); cards written by hand
  test/fixtures/encoder-decoder/text.{onnx, decoder.onnx, text.f32, umd.json} as fast, the decoder also taking a
                                           text_embedding [1, 4] row (SegVol's signature) that shifts every logit
  test/fixtures/encoder-decoder/binary.{onnx, decoder.onnx} as fast, but mask_inputs is the previous 0/1 mask on
      the crop grid [1,1,S,S,S] (card previousMask form "binary")

What the graphs compute (S = crop size, L = S / 4 the low-res size; all coordinates crop voxels, tensor order):
  encoder: per 16^3 block, the mean and the mean square of the image -> tanh(1x1 conv to 384 channels)
  decoder: logits(v) = -1 + sum_i w_i(v) * (3 if label_i = 1 else -4) + 0.25 * e(v) + 0.5 * m(v)
      w_i(v) = exp(-|c(v) - p_i|^2 / (2 sigma^2)), c(v) = 4 v + 1.5 the crop coordinate of low-res voxel v's centre
      (align_corners=False), sigma = S / 16 crop voxels; e = a 1x1 conv of the embeddings to one channel,
      trilinear x4; m = mask_inputs (logits form), or 2 * avg_pool4(mask_inputs) - 1 (binary form).
  So a positive click grows a blob, a negative one cuts it, the image shifts the boundary a little, and the
  previous output enters with weight exactly 0.5: a test can feed mask_inputs itself and see that difference.
Tests and the engine need only the committed .onnx files, never Python. The script also leaves torch's own outputs
for two clicks (the second fed the first's logits) in /tmp/<name>.ref.json, which
`node models/training/check-encoder-decoder.mjs` compares with onnxruntime-node's on the exported graphs.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EMBED = 384


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv3d(2, EMBED, 1)

    def forward(self, image):
        feats = torch.cat([F.avg_pool3d(image, 16), F.avg_pool3d(image * image, 16)], 1)
        return torch.tanh(self.proj(feats))


def low_res_centres(e):
    """[L0, L1, L2, 3]: crop voxel coordinates of the low-res voxel centres (4 v + 1.5: x4, align_corners=False)."""
    d0, d1, d2 = e.shape[2], e.shape[3], e.shape[4]
    a = torch.arange(d0, dtype=torch.float32).view(d0, 1, 1).expand(d0, d1, d2)
    b = torch.arange(d1, dtype=torch.float32).view(1, d1, 1).expand(d0, d1, d2)
    c = torch.arange(d2, dtype=torch.float32).view(1, 1, d2).expand(d0, d1, d2)
    return torch.stack([a, b, c], dim=-1) * 4.0 + 1.5


class Decoder(nn.Module):
    def __init__(self, binary=False):
        super().__init__()
        self.head = nn.Conv3d(EMBED, 1, 1)
        self.binary = binary

    def forward(self, image_embeddings, point_coords, point_labels, mask_inputs):
        e = F.interpolate(self.head(image_embeddings), scale_factor=4.0, mode="trilinear", align_corners=False)
        m = F.avg_pool3d(mask_inputs, 4) * 2.0 - 1.0 if self.binary else mask_inputs
        g = low_res_centres(e).unsqueeze(3)  # [L0, L1, L2, 1, 3]
        sigma = e.shape[2] * 4.0 / 16.0
        d2 = ((g - point_coords[0].view(1, 1, 1, -1, 3)) ** 2).sum(-1)  # [L0, L1, L2, N]
        w = torch.exp(-d2 / (2.0 * sigma * sigma))
        lab = point_labels[0].view(1, 1, 1, -1)
        clicks = (w * (lab * 3.0 - (1.0 - lab) * 4.0)).sum(-1) - 1.0
        return clicks.unsqueeze(0).unsqueeze(0) + 0.25 * e + 0.5 * m


class TextDecoder(nn.Module):
    """Decoder plus a text_embedding [1, TEXT_DIM] input (SegVol's signature): the row's first value shifts every logit."""

    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, image_embeddings, point_coords, point_labels, mask_inputs, text_embedding):
        return self.dec(image_embeddings, point_coords, point_labels, mask_inputs) + text_embedding[0, 0]


TEXT_DIM = 4
# liver's row grows every logit by 6 (the mask fills most of the crop), spleen's shrinks it by 6 (only clicks survive)
TEXT_ROWS = [("liver", [6.0, 0.0, 0.0, 0.0]), ("spleen", [-6.0, 0.0, 0.0, 0.0])]


def export_text(enc, dec, fix):
    """test/fixtures/encoder-decoder/text.*: the fast pair with a text-taking decoder, its rows and card."""
    crop, low = 64, 16
    emb = enc(torch.zeros(1, 1, crop, crop, crop))
    args = (emb, torch.zeros(1, 2, 3), torch.ones(1, 2), torch.zeros(1, 1, low, low, low), torch.zeros(1, TEXT_DIM))
    sp, lo, n = {2: "s0", 3: "s1", 4: "s2"}, {2: "l0", 3: "l1", 4: "l2"}, {1: "n"}
    torch.onnx.export(enc, torch.zeros(1, 1, crop, crop, crop), os.path.join(fix, "text.onnx"), input_names=["image"], output_names=["image_embeddings"],
                      opset_version=17, dynamic_axes={"image": sp, "image_embeddings": {2: "e0", 3: "e1", 4: "e2"}})
    torch.onnx.export(TextDecoder(dec), args, os.path.join(fix, "text.decoder.onnx"), opset_version=17,
                      input_names=["image_embeddings", "point_coords", "point_labels", "mask_inputs", "text_embedding"], output_names=["low_res_logits"],
                      dynamic_axes={"image_embeddings": {2: "e0", 3: "e1", 4: "e2"}, "point_coords": n, "point_labels": n, "mask_inputs": lo, "low_res_logits": lo})
    np.array([r for _, r in TEXT_ROWS], dtype="<f4").tofile(os.path.join(fix, "text.text.f32"))
    with open(os.path.join(fix, "fast.umd.json")) as f:
        card = json.load(f)
    card.update({
        "$comment": "Fixture for the encoder-decoder tests: the fast pair whose decoder also takes a text embedding row (SegVol's signature); written by models/training/make_encoder_decoder.py (export_text)",
        "decoder": {"file": "text.decoder.onnx", "embeddings": ["image_embeddings"]},
        "prompt": {**card["prompt"], "text": {"input": "text_embedding", "file": "text.text.f32", "dim": TEXT_DIM, "rows": [{"organ": o} for o, _ in TEXT_ROWS]}},
    })
    with open(os.path.join(fix, "text.umd.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


def export(crop, enc, dec, enc_path, dec_path, dynamic, binary=False):
    low = crop // 4
    image = torch.zeros(1, 1, crop, crop, crop)
    emb = enc(image)
    pts = torch.zeros(1, 2, 3)
    lab = torch.ones(1, 2)
    mask = torch.zeros(1, 1, *(3 * [crop if binary else low]))
    sp = {2: "s0", 3: "s1", 4: "s2"}
    lo = {2: "l0", 3: "l1", 4: "l2"}
    if enc_path:
        torch.onnx.export(enc, image, enc_path, input_names=["image"], output_names=["image_embeddings"], opset_version=17,
                          dynamic_axes={"image": sp, "image_embeddings": {2: "e0", 3: "e1", 4: "e2"}} if dynamic else None)
    n = {1: "n"}
    axes = {"point_coords": n, "point_labels": n}
    if dynamic:
        axes.update({"image_embeddings": {2: "e0", 3: "e1", 4: "e2"}, "mask_inputs": sp if binary else lo, "low_res_logits": lo})
    torch.onnx.export(dec, (emb, pts, lab, mask), dec_path, opset_version=17,
                      input_names=["image_embeddings", "point_coords", "point_labels", "mask_inputs"],
                      output_names=["low_res_logits"], dynamic_axes=axes)


CARD = {
    "$comment": "Written by models/training/make_encoder_decoder.py: an untrained plumbing pair with SAM-Med3D's tensor signatures",
    "name": "sam-med3d-style",
    "description": "Encoder + decoder pair with SAM-Med3D's exact tensor signatures (image [1,1,128,128,128] -> image_embeddings [1,384,8,8,8]; decoder: image_embeddings, point_coords [1,N,3], point_labels [1,N], mask_inputs [1,1,32,32,32] -> low_res_logits [1,1,32,32,32]). Not trained: positive clicks grow blobs, negative ones cut them, the previous logits are fed back with weight 0.5 (see the script). A plumbing demo of the encoder-decoder card, not a segmenter.",
    "kind": "promptable",
    "inputs": {"image": "image"},
    "decoder": {"file": "sam-med3d-style.decoder.onnx", "embeddings": ["image_embeddings"]},
    "outputs": {"logits": "low_res_logits"},
    "prompt": {"points": "point_coords", "pointLabels": "point_labels", "previousMask": {"input": "mask_inputs", "form": "logits"}},
    "logits": {"size": [32, 32, 32], "upsample": "trilinear", "activation": "sigmoid"},
    "cropSize": [128, 128, 128],
    "spacing": [1.5, 1.5, 1.5],
    "patchSize": None,
    "spatialOrder": "kji",
    # SAM-Med3D's tio.ZNormalization(masking_method=lambda x: x > 0): statistics above 0, every voxel scaled
    "normalization": {"*": {"method": "zscore", "mask": {"above": 0}, "outside": "scaled"}},
    "labels": {"1": "prompted organ"},
}


def reference(crop, enc, dec, name, binary=False):
    """Torch outputs for click 1 (mask zeros) and click 2 (fed click 1's logits, or its 0/1 upsampled mask)."""
    n = crop ** 3
    image = torch.from_numpy((((np.arange(n) * 7919) % 1013) / 64.0 - 8).astype(np.float32)).view(1, 1, crop, crop, crop)
    pts = torch.tensor([[[crop / 2, crop / 2, crop / 2], [crop / 4, crop / 2, crop / 3]]], dtype=torch.float32)
    lab = torch.tensor([[1.0, 0.0]])
    emb = enc(image)
    low = crop // 4
    l1 = dec(emb, pts[:, :1], lab[:, :1], torch.zeros(1, 1, *(3 * [crop if binary else low])))
    prev = (F.interpolate(l1, size=(crop,) * 3, mode="trilinear", align_corners=False) > 0).float() if binary else l1
    l2 = dec(emb, pts, lab, prev)
    ref = {"crop": crop, "image": "x[v] = ((v * 7919) % 1013) / 64 - 8", "points": pts.tolist(), "labels": lab.tolist(), "binary": binary,
           "embeddingsSum": float(emb.double().sum()), "logits1": l1.reshape(-1).tolist(), "logits2": l2.reshape(-1).tolist()}
    with open(f"/tmp/{name}.ref.json", "w") as f:
        json.dump(ref, f)


def main():
    torch.manual_seed(0)
    enc, dec, dec_bin = Encoder().eval(), Decoder().eval(), Decoder(binary=True).eval()
    dec_bin.load_state_dict(dec.state_dict())
    models = os.path.join(ROOT, "models")
    fix = os.path.join(ROOT, "test", "fixtures", "encoder-decoder")
    os.makedirs(fix, exist_ok=True)
    with torch.no_grad():
        export(128, enc, dec, os.path.join(models, "sam-med3d-style.onnx"), os.path.join(models, "sam-med3d-style.decoder.onnx"), dynamic=False)
        export(64, enc, dec, os.path.join(fix, "fast.onnx"), os.path.join(fix, "fast.decoder.onnx"), dynamic=True)
        export(64, enc, dec_bin, os.path.join(fix, "binary.onnx"), os.path.join(fix, "binary.decoder.onnx"), dynamic=True, binary=True)
        reference(128, enc, dec, "sam-med3d-style")
        reference(64, enc, dec, "fast")
        reference(64, enc, dec_bin, "binary", binary=True)
        export_text(enc, dec, fix)
    with open(os.path.join(models, "sam-med3d-style.umd.json"), "w") as f:
        json.dump(CARD, f, indent=2)
        f.write("\n")
    print("wrote models/sam-med3d-style.*, test/fixtures/encoder-decoder/*")


if __name__ == "__main__":
    main()
