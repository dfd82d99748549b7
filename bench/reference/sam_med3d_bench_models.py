#!/usr/bin/python3
"""SAM-Med3D-sized encoder + decoder (seeded random weights) for bench/promptable.bench.ts, exported to OUT_DIR:

  /usr/bin/python3 bench/reference/sam_med3d_bench_models.py OUT_DIR

Same tensor signatures as models/sam-med3d-style (card: OUT_DIR/sam-med3d-vitb.umd.json) and the cost structure of
SAM-Med3D's own graphs (uni-medical/SAM-Med3D, build_sam3D_vit_b_ori), written here from its published
configuration, not copied:
- encoder: ViT-B 3D: Conv3d(1, 768, 16, stride 16) patch embedding of the 128^3 crop -> 8^3 tokens, 12 blocks
  (768 wide, 12 heads, MLP 3072), blocks 2, 5, 8, 11 global attention and the others windowed with window 14,
  which pads the 8^3 grid to 14^3 = 2744 tokens as SAM's window_partition does (most of the encoder's cost);
  neck Conv3d 768->384 (1x1), LayerNorm, Conv3d 384->384 (3x3x3), LayerNorm -> [1, 384, 8, 8, 8]. Not modelled:
  the decomposed relative position terms (a small share of the attention's cost).
- decoder: prompt encoder (random Fourier point embedding + label embeddings, mask downscaling
  1->4->16->384 channels from the 32^3 previous logits), a two-way transformer of depth 2 (384 wide, 8 heads, MLP
  2048), output upscaling ConvTranspose3d 384->96->48 to 32^3 and a hypernetwork MLP per mask token -> the first
  mask, [1, 1, 32, 32, 32].
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

D = 384


class LayerNorm3d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.w = nn.Parameter(torch.ones(c))
        self.b = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = ((x - u) ** 2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + 1e-6)
        return self.w[:, None, None, None] * x + self.b[:, None, None, None]


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):  # [B, T, C]
        b, t, c = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        a = torch.softmax((q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1), -1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, dim, heads, window):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(), nn.Linear(dim * 4, dim))
        self.window = window

    def forward(self, x):  # [1, 8, 8, 8, C]
        s = x.shape[1]
        h = self.n1(x)
        if self.window:
            p = self.window - s  # one window: the 8^3 grid padded to 14^3
            h = F.pad(h, (0, 0, 0, p, 0, p, 0, p))
        w = h.shape[1]
        h = self.attn(h.reshape(1, w * w * w, -1)).reshape(1, w, w, w, -1)[:, :s, :s, :s]
        x = x + h
        return x + self.mlp(self.n2(x))


class ViTB3D(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv3d(1, 768, 16, stride=16)
        self.pos = nn.Parameter(torch.randn(1, 8, 8, 8, 768) * 0.02)
        self.blocks = nn.ModuleList([Block(768, 12, 0 if i in (2, 5, 8, 11) else 14) for i in range(12)])
        self.neck = nn.Sequential(nn.Conv3d(768, D, 1, bias=False), LayerNorm3d(D), nn.Conv3d(D, D, 3, padding=1, bias=False), LayerNorm3d(D))

    def forward(self, image):
        x = self.patch(image).permute(0, 2, 3, 4, 1) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.neck(x.permute(0, 4, 1, 2, 3))


class CrossAttention(nn.Module):
    """Multi-head attention of queries q over keys k and values v (nn.MultiheadAttention's fused inference path
    does not export to ONNX)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, q, k, v):
        b, c, h = q.shape[0], q.shape[2], self.heads
        split = lambda x: x.reshape(b, x.shape[1], h, c // h).transpose(1, 2)
        a = torch.softmax(split(self.q(q)) @ split(self.k(k)).transpose(-2, -1) * (c // h) ** -0.5, -1)
        return self.o((a @ split(self.v(v))).transpose(1, 2).reshape(b, q.shape[1], c))


class TwoWayLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn = CrossAttention(D, 8)
        self.t2i = CrossAttention(D, 8)
        self.mlp = nn.Sequential(nn.Linear(D, 2048), nn.ReLU(), nn.Linear(2048, D))
        self.i2t = CrossAttention(D, 8)
        self.norms = nn.ModuleList([nn.LayerNorm(D) for _ in range(4)])

    def forward(self, q, k, pe_k):
        q = self.norms[0](q + self.self_attn(q, q, q))
        q = self.norms[1](q + self.t2i(q, k + pe_k, k))
        q = self.norms[2](q + self.mlp(q))
        k = self.norms[3](k + self.i2t(k + pe_k, q, q))
        return q, k


class SamLikeDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("gauss", torch.randn(3, D // 2))
        self.label_embed = nn.Embedding(2, D)
        self.mask_down = nn.Sequential(nn.Conv3d(1, 4, 2, stride=2), LayerNorm3d(4), nn.GELU(), nn.Conv3d(4, 16, 2, stride=2), LayerNorm3d(16), nn.GELU(), nn.Conv3d(16, D, 1))
        self.dense_pe = nn.Parameter(torch.randn(1, 512, D) * 0.02)
        self.tokens = nn.Parameter(torch.randn(1, 5, D) * 0.02)  # iou token + 4 mask tokens
        self.layers = nn.ModuleList([TwoWayLayer(), TwoWayLayer()])
        self.final = CrossAttention(D, 8)
        self.up = nn.Sequential(nn.ConvTranspose3d(D, 96, 2, stride=2), LayerNorm3d(96), nn.GELU(), nn.ConvTranspose3d(96, 48, 2, stride=2), nn.GELU())
        self.hyper = nn.ModuleList([nn.Sequential(nn.Linear(D, D), nn.ReLU(), nn.Linear(D, D), nn.ReLU(), nn.Linear(D, 48)) for _ in range(4)])

    def forward(self, image_embeddings, point_coords, point_labels, mask_inputs):
        c = (point_coords + 0.5) / 128.0 * 2 - 1
        c = 2 * math.pi * (c @ self.gauss)
        pts = torch.cat([torch.sin(c), torch.cos(c)], -1) + point_labels.unsqueeze(-1) * self.label_embed.weight[1] + (1 - point_labels.unsqueeze(-1)) * self.label_embed.weight[0]
        q = torch.cat([self.tokens, pts], 1)
        src = image_embeddings + self.mask_down(mask_inputs)
        k = src.flatten(2).transpose(1, 2)  # [1, 512, D]
        for layer in self.layers:
            q, k = layer(q, k, self.dense_pe)
        q = q + self.final(q, k + self.dense_pe, k)
        up = self.up(k.transpose(1, 2).reshape(1, D, 8, 8, 8))  # [1, 48, 32, 32, 32]
        hyper = torch.stack([self.hyper[i](q[:, 1 + i]) for i in range(4)], 1)  # [1, 4, 48]
        masks = (hyper @ up.flatten(2)).reshape(1, 4, 32, 32, 32)
        return masks[:, :1]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    enc, dec = ViTB3D().eval(), SamLikeDecoder().eval()
    image = torch.zeros(1, 1, 128, 128, 128)
    with torch.no_grad():
        emb = enc(image)
        torch.onnx.export(dec, (emb, torch.full((1, 2, 3), 64.0), torch.ones(1, 2), torch.zeros(1, 1, 32, 32, 32)), os.path.join(out, "sam-med3d-vitb.decoder.onnx"),
                          input_names=["image_embeddings", "point_coords", "point_labels", "mask_inputs"], output_names=["low_res_logits"],
                          opset_version=17, dynamic_axes={"point_coords": {1: "n"}, "point_labels": {1: "n"}})
        torch.onnx.export(enc, image, os.path.join(out, "sam-med3d-vitb.onnx"), input_names=["image"], output_names=["image_embeddings"], opset_version=17)
    card = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "sam-med3d-style.umd.json")))
    card["name"] = "sam-med3d-vitb (bench)"
    card["decoder"]["file"] = "sam-med3d-vitb.decoder.onnx"
    with open(os.path.join(out, "sam-med3d-vitb.umd.json"), "w") as f:
        json.dump(card, f, indent=2)
    n_enc = sum(p.numel() for p in enc.parameters())
    n_dec = sum(p.numel() for p in dec.parameters())
    print(json.dumps({"encoderParams": n_enc, "decoderParams": n_dec}))


if __name__ == "__main__":
    main()
