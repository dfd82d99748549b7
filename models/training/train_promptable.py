#!/usr/bin/python3
"""Train the UMD-mini promptable demo checkpoint (tiny 3D net, CPU) on CT of a training-seed phantom.

  train_promptable.py --data DIR --iters N --out models/umd-mini-promptable [--seed 0]

Input [1, 4, 32, 32, 32] (k, j, i) at 4 mm: CT (clip-zscore as the card says), then three dense prompt channels
as the engine builds them (promptablePredict.ts): "positive" and "negative" 0/1 balls of radiusMm around clicks,
"box" 0/1 inside the box. Output [1, 1, ...] logits of the prompted organ. Each sample prompts one organ with one
of: the center point (EDT argmax), a random interior point, a jittered box (no points), or a center click plus
simulated refinement clicks (a random positive inside the organ, a random negative just outside it).
Preprocessing reuses train.py (resample to 4 mm through the affines, CT normalization).
"""
import argparse, json, os, sys, time
import numpy as np
from scipy import ndimage
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as base  # noqa: E402

CROP = 32
RADIUS_MM = 8.0
SP = base.SPACING[0]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = base.Conv(4, 16)
        self.b = base.Conv(16, 32, stride=2)
        self.c = base.Conv(32, 32)
        self.d = nn.Sequential(base.Conv(32, 32), base.Conv(32, 32))
        self.up = nn.ConvTranspose3d(32, 16, 2, stride=2)
        self.e = base.Conv(16, 16)
        self.head = nn.Conv3d(16, 1, 1)

    def forward(self, x):
        s = self.a(x)
        y = self.d(self.c(self.b(s)))
        return self.head(self.e(self.up(y) + s))


def ball(shape, centres, r_vox):
    out = np.zeros(shape, np.float32)
    if not centres:
        return out
    g = np.indices(shape).astype(np.float32)
    for c in centres:
        out[((g - np.array(c, np.float32).reshape(3, 1, 1, 1)) ** 2).sum(0) <= r_vox ** 2] = 1
    return out


def crop_at(vol, centre, fill):
    out = np.full((CROP,) * 3, fill, vol.dtype)
    lo = [c - CROP // 2 for c in centre]
    src = tuple(slice(max(0, l), min(n, l + CROP)) for l, n in zip(lo, vol.shape))
    dst = tuple(slice(s.start - l, s.stop - l) for s, l in zip(src, lo))
    out[dst] = vol[src]
    return out


def sample(vols, rng):
    x, y = vols[rng.integers(len(vols))]
    present = [o for o in np.unique(y) if o != 0]
    organ = int(rng.choice(present))
    m = y == organ
    idx = np.argwhere(m)
    kind = rng.choice(["center", "random", "box", "clicks"], p=[0.3, 0.25, 0.2, 0.25])
    pos, neg, box = [], [], None
    if kind == "box":
        lo, hi = idx.min(0), idx.max(0)
        j = rng.integers(-1, 2, size=(2, 3))
        lo, hi = lo + j[0], hi + j[1]
        centre = ((lo + hi) // 2).tolist()
        box = (lo, hi)
    else:
        if kind in ("center", "clicks"):
            d = ndimage.distance_transform_edt(np.pad(m, 1))[1:-1, 1:-1, 1:-1]
            p = np.unravel_index(int(np.argmax(d)), m.shape)
        else:
            p = idx[rng.integers(len(idx))]
        centre = [int(v) for v in p]
        pos.append(centre)
        if kind == "clicks":
            pos.append(idx[rng.integers(len(idx))].tolist())
            ring = np.argwhere(ndimage.binary_dilation(m, iterations=2) & ~m)
            if len(ring):
                neg.append(ring[rng.integers(len(ring))].tolist())
    off = [c - CROP // 2 for c in centre]
    rel = lambda ps: [[a - o for a, o in zip(q, off)] for q in ps]
    chans = [crop_at(x, centre, float(x.min())), ball((CROP,) * 3, rel(pos), RADIUS_MM / SP),
             ball((CROP,) * 3, rel(neg), RADIUS_MM / SP), np.zeros((CROP,) * 3, np.float32)]
    if box is not None:
        lo = np.clip(np.array(box[0]) - off, 0, CROP - 1)
        hi = np.clip(np.array(box[1]) - off, 0, CROP - 1)
        chans[3][lo[0]:hi[0] + 1, lo[1]:hi[1] + 1, lo[2]:hi[2] + 1] = 1
    target = crop_at(m.astype(np.float32), centre, 0.0)
    return np.stack(chans), target[None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="models/umd-mini-promptable")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    mean, std = base.ct_stats(args.data)
    norm = {"ct": {"method": "clip-zscore", "lower": base.CT_WINDOW[0], "upper": base.CT_WINDOW[1], "mean": mean, "std": std}}
    vols = []
    for s in base.subjects(args.data):
        x, y, _ = base.load_pair(os.path.join(args.data, "PETCT", s), "CT", "ct", norm)
        # back to (i, j, k): prompts and crops are built in voxel index space
        vols.append((x.transpose(2, 1, 0).copy(), y.transpose(2, 1, 0).copy()))
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    t0 = time.time()
    for it in range(args.iters):
        xs, ys = zip(*[sample(vols, rng) for _ in range(args.batch)])
        # training tensors in (i, j, k); transpose to the card's (k, j, i)
        x = torch.from_numpy(np.stack(xs)).permute(0, 1, 4, 3, 2).contiguous()
        y = torch.from_numpy(np.stack(ys)).permute(0, 1, 4, 3, 2).contiguous()
        logit = net(x)
        p = torch.sigmoid(logit)
        dice = 1 - (2 * (p * y).sum((2, 3, 4)) + 1) / (p.sum((2, 3, 4)) + y.sum((2, 3, 4)) + 1)
        loss = F.binary_cross_entropy_with_logits(logit, y) + dice.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 50 == 0:
            print(f"it {it} loss {loss.item():.4f} dice {1 - dice.mean().item():.3f} {time.time() - t0:.0f}s", flush=True)
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 4, CROP, CROP, CROP), args.out + ".onnx", opset_version=17,
                      input_names=["image"], output_names=["logits"], do_constant_folding=True)
    n_params = sum(p.numel() for p in net.parameters())
    card = {
        "name": os.path.basename(args.out),
        "description": f"UMD-mini promptable demo: tiny 3D net ({n_params} parameters) on a 32^3 crop at 4 mm of CT plus dense prompt channels (positive clicks, negative clicks, box), trained on CT of UMD-mini seed 1001 with simulated center/random/box/click prompts.",
        "kind": "promptable",
        "inputs": {"image": "image"},
        "outputs": {"logits": "logits"},
        "prompt": {"channels": ["positive", "negative", "box"], "radiusMm": RADIUS_MM},
        "cropSize": [CROP, CROP, CROP],
        "spacing": base.SPACING,
        "patchSize": None,
        "spatialOrder": "kji",
        # PET/MRI were never seen: fed through the per-volume "*" zscore, as the CT-only semantic card does
        "normalization": {**norm, "*": {"method": "zscore"}},
        "labels": {"1": "prompted organ"},
        "training": {"data": "UMD-mini seed 1001 (CT of PET/CT)", "iters": args.iters, "batch": args.batch, "seed": args.seed, "script": "models/training/train_promptable.py", "seconds": round(time.time() - t0)},
    }
    with open(args.out + ".umd.json", "w") as f:
        json.dump(card, f, indent=2)
    print("wrote", args.out + ".onnx", n_params, "params")


if __name__ == "__main__":
    main()
