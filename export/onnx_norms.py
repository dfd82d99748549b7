"""ONNX-friendly restatements of PyTorch layers whose onnxruntime kernels lose precision at 3D patch sizes, shared
by the exporters (export/*/export_*.py). The arithmetic is PyTorch's; only the order of the float32 sums changes."""
from __future__ import annotations

import copy

import torch
from torch import nn


class StagedInstanceNorm3d(nn.Module):
    """nn.InstanceNorm3d (eval, no running statistics) with its mean and variance taken one spatial axis at a time.
    The same arithmetic (every row along an axis has that axis's length, so the mean of the means is the mean), but onnxruntime's
    InstanceNormalization and ReduceMean sum a whole channel in float32: at 128^3 (2 M voxels) each normalization
    is off by ~2e-4, and the 39 on VISTA3D's class path put the logits 2e-3 from PyTorch's; axis by axis, a sum has 128 terms
    and the graph is 4e-5 from it (PyTorch's float32 is itself 3e-5 from float64 there)."""

    def __init__(self, norm: nn.InstanceNorm3d):
        super().__init__()
        self.eps = norm.eps
        self.weight = norm.weight if norm.affine else None
        self.bias = norm.bias if norm.affine else None

    def forward(self, x):
        mean = x.mean(4, keepdim=True).mean(3, keepdim=True).mean(2, keepdim=True)
        d = x - mean
        var = (d * d).mean(4, keepdim=True).mean(3, keepdim=True).mean(2, keepdim=True)
        y = d / torch.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight.view(1, -1, 1, 1, 1) + self.bias.view(1, -1, 1, 1, 1)
        return y


def staged_norms(network: nn.Module) -> nn.Module:
    """A copy of `network` whose InstanceNorm3d layers are StagedInstanceNorm3d (other norms are kept: VISTA3D's
    class head InstanceNorm1d sums 48 features)."""
    net = copy.deepcopy(network)
    for parent in net.modules():
        for k, child in parent.named_children():
            if isinstance(child, nn.InstanceNorm3d):
                if child.track_running_stats:
                    raise ValueError(f"{k}: an InstanceNorm3d with running statistics (eval uses them, not the per-sample statistics restated here)")
                setattr(parent, k, StagedInstanceNorm3d(child))
    return net.eval()
