"""What every exporter (export/*/export_*.py) reads and writes the same way: a checkpoint's state dict, and the card."""
from __future__ import annotations

import json
import os


def strip_module(state: dict) -> dict:
    """DataParallel / DistributedDataParallel save every key under `module.`; the bare network has none."""
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def unwrap_state(ckpt, keys: tuple[str, ...] = ("model_state_dict", "model", "state_dict")):
    """The state dict inside a training checkpoint (a dict holding it under one of `keys`, possibly nested), or
    `ckpt` itself when it is already one."""
    while isinstance(ckpt, dict):
        inner = next((ckpt[k] for k in keys if isinstance(ckpt.get(k), dict)), None)
        if inner is None:
            break
        ckpt = inner
    return ckpt


def write_card(out_dir: str, name: str, card: dict) -> str:
    """Writes `<name>.umd.json` beside the graphs (2-space JSON, final newline) and returns its path."""
    path = os.path.join(out_dir, f"{name}.umd.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    return path
