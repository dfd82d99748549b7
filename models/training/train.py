#!/usr/bin/python3
"""Train the UMD-mini demo checkpoints (small 3D U-Net, CPU, deterministic) and evaluate them.

  train.py train --data DIR --modalities ct|all --iters N --out models/NAME [--seed 0]
      trains on DIR (a UMD-layout phantom), writes NAME.onnx (opset 17, dynamic spatial axes), NAME.umd.json and
      /tmp/NAME.pt (torch weights for eval).
  train.py eval --data DIR --model models/NAME [--card models/NAME.umd.json]
      per-modality, per-organ Dice on DIR exactly as the engine feeds the model (see preprocess / sliding_window),
      writes the figures into the card's "heldOut" field.

Preprocessing follows the model-card contract: resample (trilinear, through the affines) onto a grid of
`spacing` mm covering the image's field of view (regrid, as src/core/geometry/affine.ts), normalize per
modality, tensor [1, 1, k, j, i]; labels are resampled (nearest) onto the same grid for training.
"""
import argparse, glob, json, os, sys, time
import numpy as np
import nibabel as nib
from scipy import ndimage
import torch
import torch.nn as nn
import torch.nn.functional as F

ORGANS = ["liver", "spleen", "left kidney", "right kidney", "heart", "aorta", "left lung", "right lung", "brain",
          "bladder", "stomach", "pancreas", "gallbladder"]
NCLS = len(ORGANS) + 1
SPACING = [4.0, 4.0, 4.0]
PATCH = [64, 64, 64]
CT_WINDOW = (-1000.0, 1000.0)
IMAGES = [("PETCT", "CT", "ct"), ("PETCT", "PET", "pet"), ("PETMRI", "MRI", "mri"), ("PETMRI", "PET", "pet")]


# ---------------------------------------------------------------- geometry and preprocessing (engine contract)
def regrid(shape, affine, spacing):
    old = np.linalg.norm(affine[:3, :3], axis=0)
    dims = [max(1, int(round(shape[a] * old[a] / spacing[a]))) for a in range(3)]
    out = affine.copy()
    for c in range(3):
        scale = spacing[c] / old[c]
        shift = -0.5 + 0.5 * scale
        out[:3, 3] += affine[:3, c] * shift
        out[:3, c] = affine[:3, c] * scale
    return dims, out


def resample(data, src_aff, dims, dst_aff, order, cval=0.0):
    """Sample `data` (i,j,k array on src_aff) at the voxel centres of the (dims, dst_aff) grid."""
    m = np.linalg.inv(src_aff) @ dst_aff
    mode = "nearest" if order == 1 else "constant"
    return ndimage.affine_transform(data, m[:3, :3], offset=m[:3, 3], output_shape=tuple(dims), order=order,
                                    mode=mode, cval=cval)


def normalize(x, key, card_norm):
    n = card_norm.get(key, card_norm.get("*", {"method": "none"}))
    x = x.astype(np.float32)
    if n["method"] == "none":
        return x
    if n["method"] == "minmax":
        lo, hi = float(x.min()), float(x.max())
        return (x - lo) / max(hi - lo, 1e-8)
    if n["method"] == "zscore":
        return (x - x.mean(dtype=np.float64)) / max(float(x.std(dtype=np.float64)), 1e-8)
    if n["method"] == "clip-zscore":
        x = np.clip(x, n["lower"], n["upper"])
        return (x - n["mean"]) / n["std"]
    raise ValueError(n)


def load_pair(study_dir, name, key, norm):
    """Model-grid tensor (k,j,i) of one image, its model grid, and the labels resampled onto it."""
    img = nib.load(os.path.join(study_dir, f"{name}.nii.gz"))
    lab = nib.load(os.path.join(study_dir, "labels.nii.gz"))
    dims, aff = regrid(img.shape, img.affine, SPACING)
    x = resample(np.asarray(img.dataobj, dtype=np.float32), img.affine, dims, aff, 1)
    y = resample(np.asarray(lab.dataobj).astype(np.uint8), lab.affine, dims, aff, 0)
    x = normalize(x, key, norm)
    return np.ascontiguousarray(x.transpose(2, 1, 0)), np.ascontiguousarray(y.transpose(2, 1, 0)), aff


def subjects(data):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(data, "PETCT", "sub-*")))


def ct_stats(data):
    """Mean/std of clipped HU over body voxels of the training CTs (nnU-Net CTNormalization style)."""
    vals = []
    for s in subjects(data):
        x = np.asarray(nib.load(os.path.join(data, "PETCT", s, "CT.nii.gz")).dataobj, dtype=np.float32)
        x = np.clip(x, *CT_WINDOW)
        vals.append(x[x > -500])
    v = np.concatenate(vals)
    return round(float(v.mean(dtype=np.float64)), 2), round(float(v.std(dtype=np.float64)), 2)


# ---------------------------------------------------------------- network
class Conv(nn.Sequential):
    def __init__(self, cin, cout, stride=1):
        super().__init__(nn.Conv3d(cin, cout, 3, stride=stride, padding=1), nn.InstanceNorm3d(cout, affine=True),
                         nn.LeakyReLU(0.01, inplace=True))


class UNet3D(nn.Module):
    """Residual-free 3D U-Net, 8-16-32-64 channels, additive skips; any input size (decoder resizes to skips)."""

    def __init__(self, ch=(8, 16, 32, 64), ncls=NCLS):
        super().__init__()
        c1, c2, c3, c4 = ch
        self.e1 = Conv(1, c1)
        self.e2 = nn.Sequential(Conv(c1, c2, 2), Conv(c2, c2))
        self.e3 = nn.Sequential(Conv(c2, c3, 2), Conv(c3, c3))
        self.b = nn.Sequential(Conv(c3, c4, 2), Conv(c4, c4))
        self.p3, self.d3 = nn.Conv3d(c4, c3, 1), Conv(c3, c3)
        self.p2, self.d2 = nn.Conv3d(c3, c2, 1), Conv(c2, c2)
        self.p1, self.d1 = nn.Conv3d(c2, c1, 1), Conv(c1, c1)
        self.head = nn.Conv3d(c1, ncls, 1)

    @staticmethod
    def up(x, skip):
        return F.interpolate(x, size=skip.shape[2:], mode="trilinear", align_corners=False)

    def forward(self, x):
        s1 = self.e1(x)
        s2 = self.e2(s1)
        s3 = self.e3(s2)
        b = self.b(s3)
        x = self.d3(self.up(self.p3(b), s3) + s3)
        x = self.d2(self.up(self.p2(x), s2) + s2)
        x = self.d1(self.up(self.p1(x), s1) + s1)
        return self.head(x)


# ---------------------------------------------------------------- training
def patch(vol, lab, center, size, fill):
    """Crop `size` around `center` (k,j,i), padding outside with `fill` / label 0."""
    out = np.full(size, fill, np.float32)
    outl = np.zeros(size, np.int64)
    src, dst = [], []
    for a in range(3):
        lo = center[a] - size[a] // 2
        s0, s1 = max(lo, 0), min(lo + size[a], vol.shape[a])
        src.append(slice(s0, s1))
        dst.append(slice(s0 - lo, s1 - lo))
    out[tuple(dst)] = vol[tuple(src)]
    outl[tuple(dst)] = lab[tuple(src)]
    return out, outl


def card_for(name, modalities, ct_mean, ct_std):
    seen = "CT" if modalities == "ct" else "CT, PET (PET/CT and PET/MRI) and MRI"
    return {
        "name": name,
        "description": f"UMD-mini demo: 3D U-Net (8-16-32-64) trained on {seen} of synthetic UMD-mini subjects (seed 1001).",
        "kind": "semantic",
        "inputs": {"image": "image"},
        "outputs": {"logits": "logits"},
        "patchSize": PATCH,
        "spatialOrder": "kji",
        "spacing": SPACING,
        "overlap": 0.5,
        "normalization": {
            "ct": {"method": "clip-zscore", "lower": CT_WINDOW[0], "upper": CT_WINDOW[1], "mean": ct_mean, "std": ct_std},
            "*": {"method": "zscore"},
        },
        "labels": {str(i + 1): o for i, o in enumerate(ORGANS)},
    }


def train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)
    name = os.path.basename(args.out)
    ct_mean, ct_std = ct_stats(args.data)
    card = card_for(name, args.modalities, ct_mean, ct_std)
    norm = card["normalization"]
    use = [im for im in IMAGES if args.modalities == "all" or im[2] == "ct"]
    data = []
    t0 = time.time()
    for s in subjects(args.data):
        for study, img, key in use:
            x, y, _ = load_pair(os.path.join(args.data, study, s), img, key, norm)
            idx = [np.argwhere(y == c) for c in range(1, NCLS)]
            data.append((x, y, idx, float(x.min()), f"{s}/{study}/{img}"))
    print(f"loaded {len(data)} volumes in {time.time() - t0:.0f} s; ct mean/std {ct_mean}/{ct_std}", flush=True)
    net = UNet3D()
    if args.init:
        net.load_state_dict(torch.load(args.init))
        print("initialized from", args.init, flush=True)
    print("parameters", sum(p.numel() for p in net.parameters()), flush=True)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.iters, pct_start=0.05)
    size = [args.train_patch] * 3
    t0 = time.time()
    for it in range(args.iters):
        xs, ys = [], []
        for _ in range(args.batch):
            x, y, idx, fill, _ = data[rng.integers(len(data))]
            if rng.random() < args.organ_frac:
                cands = [c for c in range(len(idx)) if len(idx[c])]
                c = cands[rng.integers(len(cands))]
                center = idx[c][rng.integers(len(idx[c]))] + rng.integers(-size[0] // 4, size[0] // 4 + 1, 3)
            else:
                center = np.array([rng.integers(n) for n in x.shape])
            px, py = patch(x, y, center, size, fill)
            xs.append(px)
            ys.append(py)
        xb = torch.from_numpy(np.stack(xs)[:, None])
        yb = torch.from_numpy(np.stack(ys))
        logits = net(xb)
        ce = F.cross_entropy(logits, yb)
        prob = logits.softmax(1)
        onehot = F.one_hot(yb, NCLS).permute(0, 4, 1, 2, 3).float()
        inter = (prob * onehot).sum((0, 2, 3, 4))
        denom = prob.sum((0, 2, 3, 4)) + onehot.sum((0, 2, 3, 4))
        present = onehot.sum((0, 2, 3, 4))[1:] > 0
        dice = ((2 * inter + 1e-5) / (denom + 1e-5))[1:]
        dl = 1 - dice[present].mean() if present.any() else torch.zeros(())
        loss = ce + dl
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 25 == 0 or it == args.iters - 1:
            print(f"it {it} loss {loss.item():.4f} ce {ce.item():.4f} dice {1 - dl.item():.3f} "
                  f"{time.time() - t0:.0f}s", flush=True)
    net.eval()
    torch.save(net.state_dict(), f"/tmp/{name}.pt")
    torch.save(net.state_dict(), f"/tmp/{name}.it{args.iters}.{'init' if args.init else 'scratch'}.pt")
    export(net, args.out + ".onnx")
    previous = None
    if args.init and os.path.exists(args.out + ".umd.json"):
        previous = json.load(open(args.out + ".umd.json")).get("training")
    card["training"] = {
        "script": "models/training/train.py", "data": "UMD-mini phantom, 12 subjects, seed 1001 (demo subjects are seed 1)",
        "modalities": "CT" if args.modalities == "ct" else "CT, PET, MRI",
        "iterations": args.iters, "batch": args.batch, "trainPatch": size, "seed": args.seed, "lr": args.lr,
        "loss": "cross-entropy + soft Dice", "organPatchFraction": args.organ_frac,
        "command": " ".join(["/usr/bin/python3"] + sys.argv),
    }
    if previous:
        card["training"]["initializedFrom"] = previous
    with open(args.out + ".umd.json", "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print("wrote", args.out + ".onnx", args.out + ".umd.json", flush=True)


def export(net, path):
    x = torch.zeros(1, 1, *PATCH)
    torch.onnx.export(net, x, path, opset_version=17, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {2: "k", 3: "j", 4: "i"}, "logits": {2: "k", 3: "j", 4: "i"}},
                      do_constant_folding=True)


# ---------------------------------------------------------------- evaluation (engine contract)
def gaussian_weight(size):
    w = np.ones(size, np.float32)
    for a, n in enumerate(size):
        c = (n - 1) / 2
        g = np.exp(-0.5 * ((np.arange(n) - c) / (n / 8)) ** 2).astype(np.float32)
        sh = [1, 1, 1]
        sh[a] = n
        w = w * g.reshape(sh)
    return np.maximum(w / w.max(), 1e-3)


def starts(n, p, step):
    if n <= p:
        return [0]
    s = list(range(0, n - p, step)) + [n - p]
    return sorted(set(s))


@torch.no_grad()
def sliding_window(net, x, overlap=0.5):
    size = [min(p, n) if False else p for p, n in zip(PATCH, x.shape)]
    pad = [max(0, p - n) for p, n in zip(size, x.shape)]
    xp = np.pad(x, [(0, p) for p in pad], mode="edge") if any(pad) else x
    acc = np.zeros((NCLS,) + xp.shape, np.float32)
    wsum = np.zeros(xp.shape, np.float32)
    w = gaussian_weight(size)
    steps = [max(1, int(p * (1 - overlap))) for p in size]
    for k in starts(xp.shape[0], size[0], steps[0]):
        for j in starts(xp.shape[1], size[1], steps[1]):
            for i in starts(xp.shape[2], size[2], steps[2]):
                sl = (slice(k, k + size[0]), slice(j, j + size[1]), slice(i, i + size[2]))
                out = net(torch.from_numpy(np.ascontiguousarray(xp[sl]))[None, None])[0].numpy()
                acc[(slice(None),) + sl] += out * w
                wsum[sl] += w
    pred = (acc / wsum).argmax(0)
    return pred[: x.shape[0], : x.shape[1], : x.shape[2]]


def evaluate(args):
    torch.set_num_threads(args.threads)
    card_path = args.card or args.model + ".umd.json"
    card = json.load(open(card_path))
    name = os.path.basename(args.model)
    net = UNet3D()
    net.load_state_dict(torch.load(f"/tmp/{name}.pt"))
    net.eval()
    # reference for check-onnx.mjs: an odd-sized input (not a multiple of 8) through the torch weights
    ref_in = np.random.default_rng(0).standard_normal((1, 1, 40, 50, 70)).astype(np.float32)
    with torch.no_grad():
        ref_out = net(torch.from_numpy(ref_in)).numpy()
    ref_in.tofile(f"/tmp/{name}.ref-in.f32")
    ref_out.astype(np.float32).tofile(f"/tmp/{name}.ref-out.f32")
    res = {}
    for study, img, key in IMAGES:
        mod = f"{study}/{img}"
        per = {o: [] for o in ORGANS}
        for s in subjects(args.data):
            d = os.path.join(args.data, study, s)
            im = nib.load(os.path.join(d, f"{img}.nii.gz"))
            lab = nib.load(os.path.join(d, "labels.nii.gz"))
            dims, aff = regrid(im.shape, im.affine, SPACING)
            x = resample(np.asarray(im.dataobj, dtype=np.float32), im.affine, dims, aff, 1)
            x = normalize(x, key, card["normalization"]).transpose(2, 1, 0)
            pred = sliding_window(net, np.ascontiguousarray(x), card.get("overlap", 0.5)).transpose(2, 1, 0)
            back = resample(pred.astype(np.uint8), aff, lab.shape, lab.affine, 0)
            gt = np.asarray(lab.dataobj)
            for c, o in enumerate(ORGANS, 1):
                a, b = back == c, gt == c
                per[o].append(2 * (a & b).sum() / max(a.sum() + b.sum(), 1))
        res[mod] = {o: round(float(np.mean(v)), 3) for o, v in per.items()}
        res[mod]["mean"] = round(float(np.mean([np.mean(v) for v in per.values()])), 3)
        print(mod, "mean Dice", res[mod]["mean"], {o: res[mod][o] for o in ORGANS}, flush=True)
    card["heldOut"] = {"dataset": f"UMD-mini seed 1, {len(subjects(args.data))} subjects (held out)",
                        "metric": "mean Dice over subjects, per organ; 'mean' averages the 13 organs",
                        "dice": res}
    describe(card)
    with open(card_path, "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


def describe(card):
    """Appends the held-out mean Dice per modality to the card's description."""
    d = card["heldOut"]["dice"]
    base = card["description"].split(" Held-out")[0]
    card["description"] = (base + " Held-out mean Dice on UMD-mini (seed 1): " +
                           ", ".join(f"{m} {d[m]['mean']:.2f}" for m in d) + ".")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["train", "eval", "bench"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--modalities", choices=["ct", "all"], default="ct")
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--train-patch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--organ-frac", type=float, default=0.7, help="fraction of patches centred on an organ voxel")
    ap.add_argument("--init", default="", help="start from these torch weights (a previous stage's /tmp/NAME.pt)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="models/model")
    ap.add_argument("--model", default="")
    ap.add_argument("--card", default="")
    args = ap.parse_args()
    if args.cmd == "train":
        train(args)
    elif args.cmd == "eval":
        evaluate(args)
    else:
        torch.set_num_threads(args.threads)
        net = UNet3D()
        opt = torch.optim.Adam(net.parameters())
        for p in (48, 64):
            x = torch.randn(args.batch, 1, p, p, p)
            t = time.time()
            for _ in range(3):
                out = net(x)
                out.mean().backward()
                opt.step()
            print(p, (time.time() - t) / 3, "s/iter")


if __name__ == "__main__":
    main()
