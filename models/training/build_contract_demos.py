#!/usr/bin/python3
"""Build the foundation-model contract demos (docs/foundation-models.md sections 2-4): tiny hand-set networks with
the tensor signatures of nnInteractive, VISTA3D, a text-prompted promptable model (SegVol style) and a text-queried
semantic model (SAT style), whose outputs follow from their prompts by a formula, so tests can see that every
channel, class id and text row reaches the network. Not trained: they segment nothing real.

  /usr/bin/python3 models/training/build_contract_demos.py [--out models/contracts]

Writes NAME.onnx + NAME.umd.json (+ NAME.text.f32) for:
  fm-interactive  image + 7 interaction channels [1, 8, d0, d1, d2] -> [1, 2, ...] logits; foreground logit
                  20 * (positive + box + maxpool3(previous) + empty1 + empty2) - 20 * (negative + box-negative) - 10
                  (+ 1e-3 tanh(image)), background 0: the mask is the positive balls and the box, the previous
                  mask grown by one voxel (26-neighbourhood), minus the negative balls.
  fm-classid      image [1, 1, 32, 32, 32] + class_vector [N, 1] int64 -> [N, 1, 32, 32, 32] (VISTA3D's forward
                  without transpose): logit_n = a[c_n] * image + b[c_n], (a, b) per class id from a 512-row table
                  (Gather): class 1 (1, -0.5), 6 (2, -200.25), 7 (-1, -500.5), every other id (0, -1).
  fm-text         image [1, 1, 16, 16, 16] + text_embedding [1, 768] -> [1, 1, 16, 16, 16]:
                  logit = t[0] * (t[1] - |q - 7.5|) (+ 1e-3 tanh(image)), |q - 7.5| the crop voxel's distance
                  in voxels from the crop centre: a ball of radius t[1] when t[0] > 0, its outside when t[0] < 0.
  fm-textquery    image [1, 1, d0, d1, d2] + text_embedding [N, 768] -> [1, N, d0, d1, d2] (SAT-like, the
                  transposed layout): logit_n = t[n, 0] * image + t[n, 1].
The text rows of the .f32 files are (t0, t1) then 766 deterministic filler values (a fixed-seed normal draw),
as a real embedding would fill them.
"""
import argparse, json, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DIM = 768


class Interactive(nn.Module):
    def forward(self, x):
        img, prev, box, box_neg, pos, neg, e1, e2 = [x[:, i:i + 1] for i in range(8)]
        grown = F.max_pool3d(prev, 3, stride=1, padding=1)
        fg = 20 * (pos + box + grown + e1 + e2) - 20 * (neg + box_neg) - 10 + 1e-3 * torch.tanh(img)
        return torch.cat([torch.zeros_like(fg), fg], 1)


class ClassId(nn.Module):
    def __init__(self):
        super().__init__()
        table = torch.zeros(512, 2)
        table[:, 1] = -1
        table[1] = torch.tensor([1.0, -0.5])
        table[6] = torch.tensor([2.0, -200.25])
        table[7] = torch.tensor([-1.0, -500.5])
        self.table = nn.Embedding(512, 2)
        self.table.weight.data.copy_(table)

    def forward(self, image, class_vector):
        ab = self.table(class_vector[:, 0])  # [N, 2]
        a = ab[:, 0].reshape(-1, 1, 1, 1, 1)
        b = ab[:, 1].reshape(-1, 1, 1, 1, 1)
        return a * image + b  # [N, 1, ...] for a batch of 1, as VISTA3D's class head returns it


class Text(nn.Module):
    def __init__(self, p):
        super().__init__()
        q = torch.arange(p, dtype=torch.float32) - (p - 1) / 2
        d = torch.sqrt(q.view(-1, 1, 1) ** 2 + q.view(1, -1, 1) ** 2 + q.view(1, 1, -1) ** 2)
        self.register_buffer("dist", d.view(1, 1, p, p, p))

    def forward(self, image, text_embedding):
        t0 = text_embedding[:, 0].view(-1, 1, 1, 1, 1)
        t1 = text_embedding[:, 1].view(-1, 1, 1, 1, 1)
        return t0 * (t1 - self.dist) + 1e-3 * torch.tanh(image)


class TextQuery(nn.Module):
    def forward(self, image, text_embedding):
        a = text_embedding[:, 0].view(1, -1, 1, 1, 1)
        b = text_embedding[:, 1].view(1, -1, 1, 1, 1)
        return a * image + b  # [1, N, ...]


def text_file(path, rows):
    rng = np.random.default_rng(0)
    data = rng.normal(0, 0.05, size=(len(rows), DIM)).astype("<f4")
    for i, (t0, t1) in enumerate(rows):
        data[i, 0], data[i, 1] = t0, t1
    data.tofile(path)


def card(path, body):
    with open(path, "w") as f:
        json.dump(body, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/contracts")
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    j = lambda name: os.path.join(out, name)
    common = {"spatialOrder": "kji", "orientation": None}
    provenance = "built by models/training/build_contract_demos.py (hand-set weights, not trained): a contract demo"

    x = torch.zeros(1, 8, 24, 24, 24)
    torch.onnx.export(Interactive(), x, j("fm-interactive.onnx"), opset_version=17, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {2: "d0", 3: "d1", 4: "d2"}, "logits": {2: "d0", 3: "d1", 4: "d2"}})
    card(j("fm-interactive.umd.json"), {
        "name": "fm-interactive", "description": "nnInteractive-style contract demo: image + 7 interaction channels -> 2-class logits; " + provenance,
        "kind": "promptable", "inputs": {"image": "image"}, "outputs": {"logits": "logits"},
        "prompt": {"channels": ["previous", "box", "box-negative", "positive", "negative", "empty", "empty"], "radiusVoxels": 3},
        "cropSize": [24, 24, 24], "spacing": None, "cropNormalization": "image", "patchSize": None, **common,
        "normalization": {"*": {"method": "zscore"}}, "labels": {"1": "prompted organ"},
    })

    cv = torch.tensor([[1], [7]], dtype=torch.int64)
    torch.onnx.export(ClassId(), (torch.zeros(1, 1, 32, 32, 32), cv), j("fm-classid.onnx"), opset_version=17,
                      input_names=["image", "class_vector"], output_names=["logits"],
                      dynamic_axes={"class_vector": {0: "n"}, "logits": {0: "n"}})
    card(j("fm-classid.umd.json"), {
        "name": "fm-classid", "description": "VISTA3D-style contract demo: image + class_vector [N, 1] int64 -> [N, 1, 32, 32, 32] logits; " + provenance,
        "kind": "semantic", "inputs": {"image": "image"}, "outputs": {"logits": "logits"},
        "classPrompt": {"input": "class_vector", "dtype": "int64"}, "logits": {"activation": "sigmoid"},
        "patchSize": [32, 32, 32], "overlap": 0.5, "spacing": None, **common,
        "normalization": {"*": {"method": "none"}}, "labels": {"1": "liver", "6": "aorta", "7": "left lung"},
    })

    torch.onnx.export(Text(16), (torch.zeros(1, 1, 16, 16, 16), torch.zeros(1, DIM)), j("fm-text.onnx"), opset_version=17,
                      input_names=["image", "text_embedding"], output_names=["logits"])
    rows = [({"organ": "liver"}, (1, 3.5)), ({"organ": "liver", "modality": "PET"}, (1, 5.5)), ({"organ": "spleen"}, (-1, 6.5)),
            ({"organ": "left kidney"}, (1, 2.5)), ({"organ": "kidney_right"}, (1, 4.5))]
    text_file(j("fm-text.text.f32"), [r[1] for r in rows])
    card(j("fm-text.umd.json"), {
        "name": "fm-text", "description": "SegVol-style contract demo: a 16^3 crop + one precomputed text embedding [1, 768] -> 1-class logits; " + provenance,
        "kind": "promptable", "inputs": {"image": "image"}, "outputs": {"logits": "logits"},
        "prompt": {"text": {"input": "text_embedding", "file": "fm-text.text.f32", "dim": DIM, "rows": [r[0] for r in rows]}},
        "cropSize": [16, 16, 16], "spacing": [4.0, 4.0, 4.0], "patchSize": None, **common,
        "normalization": {"*": {"method": "zscore"}}, "labels": {"1": "prompted organ"},
    })

    torch.onnx.export(TextQuery(), (torch.zeros(1, 1, 32, 32, 32), torch.zeros(2, DIM)), j("fm-textquery.onnx"), opset_version=17,
                      input_names=["image", "text_embedding"], output_names=["logits"],
                      dynamic_axes={"text_embedding": {0: "n"}, "logits": {1: "n"}})
    qrows = [({"organ": "liver"}, (1, -0.5)), ({"organ": "liver", "modality": "PET"}, (1, -2.5)),
             ({"organ": "lung_left"}, (-1, -500.5)), ({"organ": "aorta"}, (2, -200.25))]
    text_file(j("fm-textquery.text.f32"), [r[1] for r in qrows])
    card(j("fm-textquery.umd.json"), {
        "name": "fm-textquery", "description": "SAT-style contract demo: image + one text query per asked class [N, 768] -> [1, N, 32, 32, 32] logits; " + provenance,
        "kind": "semantic", "inputs": {"image": "image"}, "outputs": {"logits": "logits"},
        "prompt": {"text": {"input": "text_embedding", "file": "fm-textquery.text.f32", "dim": DIM, "rows": [r[0] for r in qrows]}},
        "logits": {"activation": "sigmoid"},
        "patchSize": [32, 32, 32], "overlap": 0.5, "spacing": None, **common,
        "normalization": {"*": {"method": "none"}}, "labels": {"1": "liver", "2": "left lung", "3": "aorta", "4": "heart"},
    })
    for f in sorted(os.listdir(out)):
        print(f"{f}: {os.path.getsize(j(f))} bytes")


if __name__ == "__main__":
    main()
