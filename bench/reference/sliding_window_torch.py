"""PyTorch CPU reference for bench/inference.bench.ts: the UMD-mini U-Net architecture (models/training/train.py,
14 classes) with seeded random weights, exported to ONNX for onnxruntime-node, and a sliding window with the
semantics of MONAI's sliding_window_inference (MONAI is not installed; see src/core/model/slidingWindow.ts's
header): constant-0 padding of axes shorter than the patch (floor(diff/2) before), scan interval
max(1, floor(patch * (1 - overlap))), dense_patch_slices starts (last window end-aligned), gaussian importance
map (sigma 0.125 * patch, clamped to max(min, 1e-3)), sw_batch_size 1, whole-volume float32 logits and weight
sums, division, crop, argmax.

  export: python3 sliding_window_torch.py export --onnx net.onnx [--seed 0] [--channels 8 16 32 64]
  run:    python3 sliding_window_torch.py run --image x.f32 --shape D H W --patch 96 --overlap 0.5 --threads 2 --out cls.u8
"""
import argparse, json, math, os, resource, sys, time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "training"))
from train import UNet3D, NCLS  # noqa: E402


def network(seed, channels=(8, 16, 32, 64)):
    torch.manual_seed(seed)
    return UNet3D(ch=tuple(channels), ncls=NCLS).eval()


def export(args):
    net = network(args.seed, args.channels)
    x = torch.zeros(1, 1, 32, 32, 32)
    dyn = {0: "batch", 2: "d0", 3: "d1", 4: "d2"}
    torch.onnx.export(net, x, args.onnx, opset_version=17, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": dyn, "logits": dyn}, do_constant_folding=True)


def scan_interval(size, patch, overlap):
    if patch == size:
        return patch
    return max(1, int(math.floor(patch * (1 - overlap))))


def window_starts(size, patch, interval):
    num = math.ceil(size / interval)
    count = 1
    for d in range(num):
        if d * interval + patch >= size:
            count = d + 1
            break
    return [i * interval - max(i * interval + patch - size, 0) for i in range(count)]


def importance_map(patch, sigma_scale=0.125):
    axes = []
    for p in patch:
        sigma = p * sigma_scale
        x = torch.arange(p, dtype=torch.float32) - (p - 1) / 2
        axes.append(torch.exp(x * x / (-2 * sigma * sigma)))
    m = axes[0][:, None, None] * axes[1][None, :, None] * axes[2][None, None, :]
    return torch.clamp(m, min=max(m.min().item(), 1e-3))


@torch.no_grad()
def sliding_window(net, image, patch, overlap):
    shape = image.shape
    full = [max(s, p) for s, p in zip(shape, patch)]
    before = [(f - s) // 2 for f, s in zip(full, shape)]
    if full != list(shape):
        padded = torch.zeros(full)
        padded[before[0]:before[0] + shape[0], before[1]:before[1] + shape[1], before[2]:before[2] + shape[2]] = image
        image = padded
    starts = [window_starts(f, p, scan_interval(f, p, overlap)) for f, p in zip(full, patch)]
    w = importance_map(patch)
    acc = None
    count = torch.zeros(full)
    net_s = 0.0
    for s0 in starts[0]:
        for s1 in starts[1]:
            for s2 in starts[2]:
                sl = (slice(s0, s0 + patch[0]), slice(s1, s1 + patch[1]), slice(s2, s2 + patch[2]))
                t = time.perf_counter()
                out = net(image[sl][None, None])[0]
                net_s += time.perf_counter() - t
                if acc is None:
                    acc = torch.zeros((out.shape[0], *full))
                acc[(slice(None),) + sl] += out * w
                count[sl] += w
    acc /= count
    acc = acc[:, before[0]:before[0] + shape[0], before[1]:before[1] + shape[1], before[2]:before[2] + shape[2]]
    return acc.argmax(0).to(torch.uint8), net_s, len(starts[0]) * len(starts[1]) * len(starts[2])


def run(args):
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    net = network(args.seed, args.channels)
    shape = tuple(args.shape)
    image = torch.from_numpy(np.fromfile(args.image, dtype=np.float32).reshape(shape))
    t = time.perf_counter()
    classes, net_s, windows = sliding_window(net, image, [args.patch] * 3, args.overlap)
    total = time.perf_counter() - t
    classes.numpy().tofile(args.out)
    print(json.dumps({"total_s": total, "net_s": net_s, "windows": windows,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("--onnx", required=True)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--channels", type=int, nargs=4, default=[8, 16, 32, 64])
    r = sub.add_parser("run")
    r.add_argument("--image", required=True)
    r.add_argument("--shape", type=int, nargs=3, required=True)
    r.add_argument("--patch", type=int, default=96)
    r.add_argument("--overlap", type=float, default=0.5)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--channels", type=int, nargs=4, default=[8, 16, 32, 64])
    r.add_argument("--out", required=True)
    args = ap.parse_args()
    export(args) if args.cmd == "export" else run(args)


if __name__ == "__main__":
    main()
