#!/usr/bin/env python3
"""Export an nnInteractive checkpoint (MIC-DKFZ/nnInteractive) to ONNX plus a UMD Lens card.

Run it with the model's own environment (the Python where nnInteractive is installed) on the model's folder, as
nnInteractive downloads it (`~/.nninteractive/models/<id>/` or any nnU-Net v2 results folder with
`inference_info.json` or `inference_session_class.json`):

    python export/nninteractive/export_nninteractive.py MODEL_DIR OUT_DIR [--fold 0] [--name nninteractive]

Writes OUT_DIR/<name>.onnx (the network: input "image" [1, 1 + N, *patch_size], output "logits" [1, 2, *patch_size])
and OUT_DIR/<name>.umd.json, a card in the contract of docs/foundation-models.md section 2.

How the network is obtained (the first that works):
  1. nnInteractive's own loader: nnInteractiveInferenceSession(device=cpu).initialize_from_trained_model_folder(),
     then session.network, configuration_manager.patch_size, channel_mapping, num_interaction_channels,
     point_interaction.point_radius, interaction_decay, supported_interactions. Exactly what the session runs.
  2. `--loader plans` (or nnInteractive not importable): the same steps from the files, needing only
     dynamic_network_architectures: inference_info.json (or the legacy inference_session_class.json, or the
     session's built-in legacy default) for the channel mapping, plans.json (configuration from the checkpoint's
     init_args, inherits_from resolved as nnU-Net's PlansManager does) for the `architecture` block, built as
     nnunetv2.utilities.get_network_from_plans does (pydoc.locate of the class and of `_kw_requires_import`), with
     2 output channels and no deep supervision, and the checkpoint's `network_weights` loaded strictly.

What the card says and what it cannot (see export/nninteractive/README.md): the channel order comes from the
checkpoint's channel mapping; a point is a ball of `point_radius` voxels; nnInteractive writes it as a
distance-transform ball (1 at the centre, falling to ~1/sqrt(r^2+1) at the rim), the contract's channel is 0/1;
normalization statistics are nnInteractive's over the image's nonzero bounding box, the card's (cropNormalization
"image") over the whole image. Those facts are kept in the card's free-form `training.upstream` block.
"""
from __future__ import annotations

import argparse
import json
import os
import pydoc
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from exporter_io import write_card  # noqa: E402  (export/exporter_io.py)
from onnx_norms import staged_norms  # noqa: E402  (export/onnx_norms.py)

# nnInteractiveInferenceSession._legacy_default_capability: what a checkpoint without capability metadata means
LEGACY_CAPABILITY = {
    "supported_interactions": {"scribble": True, "lasso": True, "points": True, "bbox2d": True, "bbox3d": False},
    "interaction_channels": 6,
    "channel_mapping": {"prev_seg": 0, "bbox2d": [1, 2], "bbox3d": [1, 2], "lasso": [1, 2], "points": [3, 4], "scribble": [5, 6]},
}
# nnInteractiveInferenceSession._load_capability_and_runtime_defaults
DEFAULT_POINT_RADIUS = 4
DEFAULT_DECAY = 0.98


class ExportError(Exception):
    """A model folder this exporter cannot turn into a card; the message names the file and the problem."""


def load_json(path: str):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ExportError(f"{path}: not found") from None
    except json.JSONDecodeError as e:
        raise ExportError(f"{path}: not valid JSON ({e})") from None


def fold_folder(model_dir: str, fold: str | None) -> str:
    if fold is not None:
        return os.path.join(model_dir, f"fold_{fold}")
    folds = sorted(d for d in os.listdir(model_dir) if d.startswith("fold_") and os.path.isdir(os.path.join(model_dir, d)))
    if len(folds) != 1:
        raise ExportError(f"{model_dir}: expected exactly one fold_* folder (found {folds or 'none'}); pass --fold")
    return os.path.join(model_dir, folds[0])


def read_capability(model_dir: str) -> tuple[dict, int | float, float, str]:
    """(capability, point radius in voxels, interaction decay, source file) as the session reads them."""
    modern = os.path.join(model_dir, "inference_info.json")
    legacy = os.path.join(model_dir, "inference_session_class.json")
    if os.path.isfile(modern):
        cap = load_json(modern)
        if not isinstance(cap, dict):
            raise ExportError(f"{modern}: must be a JSON object")
        return cap, cap.get("point_radius", DEFAULT_POINT_RADIUS), cap.get("interaction_decay", DEFAULT_DECAY), modern
    if os.path.isfile(legacy):
        content = load_json(legacy)
        if isinstance(content, str):  # a bare class name: the session then uses decay 0.9
            return {}, DEFAULT_POINT_RADIUS, 0.9, legacy
        return {}, content.get("point_radius", DEFAULT_POINT_RADIUS), content.get("interaction_decay", DEFAULT_DECAY), legacy
    raise ExportError(f"{model_dir}: neither inference_info.json nor inference_session_class.json (not an nnInteractive model folder)")


def channel_mapping(cap: dict) -> tuple[dict, dict, int]:
    """(channel mapping with non-negative indices, supported interactions, number of interaction channels),
    resolved as nnInteractiveInferenceSession._apply_capability does (defaults, then the capability's keys)."""
    supported = {**LEGACY_CAPABILITY["supported_interactions"], **{k: bool(v) for k, v in cap.get("supported_interactions", {}).items()}}
    mapping = {k: (v if k == "prev_seg" else tuple(v)) for k, v in LEGACY_CAPABILITY["channel_mapping"].items()}
    for k, v in cap.get("channel_mapping", {}).items():
        mapping[k] = int(v) if k == "prev_seg" else (int(v[0]), int(v[1]))
    if "interaction_channels" in cap:
        n = int(cap["interaction_channels"]) + 1
    else:
        idx = [mapping["prev_seg"]] + [i for k, v in mapping.items() if k != "prev_seg" for i in v]
        n = max(max([i + 1 for i in idx if i >= 0], default=1), max([-i for i in idx if i < 0], default=0))
    pos = lambda i: i if i >= 0 else n + i  # noqa: E731
    out = {"prev_seg": pos(int(mapping["prev_seg"]))}
    for k, v in mapping.items():
        if k != "prev_seg":
            out[k] = (pos(v[0]), pos(v[1]))
    return out, supported, n


def card_channels(mapping: dict, supported: dict, n: int, box: str) -> tuple[list[str], list[str]]:
    """The card's `prompt.channels` (docs/foundation-models.md section 2) from nnInteractive's channel mapping,
    and warnings. Scribbles and lasso are never simulated: "empty". Boxes: the protocol's box is 3D; a checkpoint
    that supports only 2D boxes (the official v1.0) gets "empty" there unless `box` is "3d"."""
    kinds = ["empty"] * n
    warnings = []
    kinds[mapping["prev_seg"]] = "previous"
    if supported.get("points"):
        p, q = mapping["points"]
        kinds[p], kinds[q] = "positive", "negative"
    box_key = "bbox3d" if "bbox3d" in mapping else "bbox2d"
    if box == "3d" or (box == "auto" and supported.get("bbox3d")):
        p, q = mapping[box_key]
        if kinds[p] != "empty" or kinds[q] != "empty":
            raise ExportError(f"box channels {p}, {q} collide with {kinds[p]!r}/{kinds[q]!r} in the channel mapping {mapping}")
        kinds[p], kinds[q] = "box", "box-negative"
        if not supported.get("bbox3d"):
            warnings.append("this checkpoint supports only 2D boxes (bbox3d false); --box 3d feeds 3D boxes anyway, as nnInteractive's override_capability_checks would")
    elif supported.get("bbox2d"):
        warnings.append("this checkpoint supports only 2D boxes (bbox3d false): the box channels are \"empty\", so box prompts are not fed; the contract has no 2D-box channel (see README)")
    return kinds, warnings


def resolve_configuration(plans: dict, name: str, plans_path: str) -> dict:
    """nnU-Net's PlansManager._internal_resolve_configuration_inheritance: parent first, child keys win."""
    confs = plans.get("configurations", {})
    chain, seen, at = [], set(), name
    while at is not None:
        if at in seen:
            raise ExportError(f"{plans_path}: configurations.{name}: inherits_from loops through {at}")
        if at not in confs:
            raise ExportError(f"{plans_path}: no configuration {at!r} (has {sorted(confs)})")
        seen.add(at)
        chain.insert(0, confs[at])
        at = confs[at].get("inherits_from")
    out: dict = {}
    for c in chain:
        out.update(c)
    return out


def build_from_plans(model_dir: str, fold: str | None, checkpoint_name: str) -> dict:
    """The network and facts without nnInteractive installed (loader "plans"); needs dynamic_network_architectures."""
    cap, radius, decay, cap_file = read_capability(model_dir)
    mapping, supported, n_inter = channel_mapping(cap)
    plans_path = os.path.join(model_dir, "plans.json")
    plans = load_json(plans_path)
    dataset = load_json(os.path.join(model_dir, "dataset.json"))
    ckpt_path = os.path.join(fold_folder(model_dir, fold), checkpoint_name)
    if not os.path.isfile(ckpt_path):
        raise ExportError(f"{ckpt_path}: checkpoint not found")
    try:  # the checkpoint holds more than tensors (nnInteractive loads it with weights_only=False too)
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    except TypeError:  # torch < 1.13 has no weights_only
        ckpt = torch.load(ckpt_path, map_location="cpu")
    try:
        config_name = ckpt["init_args"]["configuration"]
        weights = ckpt["network_weights"]
    except (KeyError, TypeError):
        raise ExportError(f"{ckpt_path}: not an nnU-Net v2 checkpoint (needs init_args.configuration and network_weights)") from None
    config = resolve_configuration(plans, config_name, plans_path)
    arch = config.get("architecture")
    if not isinstance(arch, dict):
        raise ExportError(f"{plans_path}: configurations.{config_name} has no `architecture` block (plans older than nnU-Net v2.3 are not handled by --loader plans; install nnInteractive and use its loader)")
    channels = dataset.get("channel_names", dataset.get("modality", {}))
    n_image = len(channels)
    kwargs = dict(arch["arch_kwargs"])
    for k in arch.get("_kw_requires_import", []):
        if kwargs.get(k) is not None:
            located = pydoc.locate(kwargs[k])
            if located is None:
                raise ExportError(f"{plans_path}: architecture.arch_kwargs.{k} = {kwargs[k]!r} cannot be imported")
            kwargs[k] = located
    cls = pydoc.locate(arch["network_class_name"])
    if cls is None:
        raise ExportError(f"{plans_path}: network class {arch['network_class_name']!r} cannot be imported (is dynamic_network_architectures installed?)")
    kwargs["deep_supervision"] = False
    network = cls(input_channels=n_image + n_inter, num_classes=2, **kwargs)
    try:
        network.load_state_dict(weights)
    except RuntimeError as e:
        raise ExportError(f"{ckpt_path}: the weights do not fit {arch['network_class_name']} built from plans.json as nnU-Net builds it "
                          f"(trainer {ckpt.get('trainer_name')!r} may build its own network: use --loader session with nnInteractive installed): {str(e).splitlines()[0]}") from None
    return {
        "network": network, "patch_size": list(config["patch_size"]), "mapping": mapping, "supported": supported,
        "n_interaction": n_inter, "n_image": n_image, "radius": radius, "decay": decay, "configuration": config_name,
        "trainer": ckpt.get("trainer_name"), "capability_file": os.path.basename(cap_file), "loader": "plans",
        "dataset_name": plans.get("dataset_name"),
    }


def build_from_session(model_dir: str, fold: str | None, checkpoint_name: str) -> dict:
    """The network and facts from nnInteractive's own session loader (loader "session")."""
    from nnInteractive.inference.inference_session import nnInteractiveInferenceSession

    session = nnInteractiveInferenceSession(device=torch.device("cpu"), use_torch_compile=False, verbose=False, torch_n_threads=os.cpu_count() or 1)
    session.initialize_from_trained_model_folder(model_dir, use_fold=fold, checkpoint_name=checkpoint_name)
    n_inter = int(session.num_interaction_channels)
    first_conv = next(m for m in session.network.modules() if isinstance(m, torch.nn.Conv3d))
    cap, _, _, cap_file = read_capability(model_dir)
    return {
        "network": session.network, "patch_size": list(session.configuration_manager.patch_size),
        "mapping": {k: (v if k == "prev_seg" else tuple(v)) for k, v in session.channel_mapping.items()},
        "supported": dict(session.supported_interactions), "n_interaction": n_inter,
        "n_image": first_conv.in_channels - n_inter, "radius": session.point_interaction.point_radius,
        "decay": session.interaction_decay, "configuration": None, "trainer": session.trainer_name,
        "capability_file": os.path.basename(cap_file), "loader": "session",
        "dataset_name": session.plans_manager.dataset_name,
    }


def make_card(facts: dict, name: str, kinds: list[str], model_dir: str) -> dict:
    radius = facts["radius"]
    if not isinstance(radius, (int, float)):
        raise ExportError(f"{model_dir}: point_radius {radius!r} is a random range (training setting); the card needs one radius")
    upstream = {
        "repository": "MIC-DKFZ/nnInteractive",
        "modelFolder": os.path.basename(os.path.normpath(model_dir)),
        "loader": facts["loader"],
        "trainer": facts["trainer"],
        "capabilityFile": facts["capability_file"],
        "channelMapping": {k: (v if k == "prev_seg" else list(v)) for k, v in facts["mapping"].items()},
        "supportedInteractions": facts["supported"],
        "interactionDecay": facts["decay"],
        "pointEncoding": "distance-transform ball (scipy EDT of skimage ball(r), divided by its max), not 0/1",
        "normalization": "mean and std (N-1) over the bounding box of the image's nonzero voxels, applied to the whole image before cropping (the card: the whole image's)",
        "autozoom": "not reproduced: one crop of patch_size at the first click; nnInteractive re-centres on each interaction and zooms out up to 4x",
    }
    if facts.get("configuration"):
        upstream["configuration"] = facts["configuration"]
    return {
        "name": name,
        "description": f"nnInteractive ({facts.get('dataset_name') or 'checkpoint'}), exported by export/nninteractive: residual-encoder U-Net on a {'x'.join(map(str, facts['patch_size']))} crop at the image's own spacing, image + {facts['n_interaction']} interaction channels",
        "kind": "promptable",
        "inputs": {"image": "image"},
        "outputs": {"logits": "logits"},
        "prompt": {"channels": kinds, "radiusVoxels": radius, "interactionDecay": facts["decay"]},
        "cropSize": facts["patch_size"],
        "patchSize": None,
        "spacing": None,
        # nnInteractive is fed sitk.GetArrayFromImage(img)[None]: (z, y, x) = NIfTI k, j, i
        "spatialOrder": "kji",
        # the session z-scores the whole image before cutting patches, and pads them with 0 after that
        "cropNormalization": "image",
        "normalization": {"*": {"method": "zscore"}},
        "logits": {"activation": "softmax"},
        # the CVPR 2025 challenge evaluator nnInteractive's benchmark entry takes its clicks from: the first click is
        # the interior point farthest from the boundary; the patch is cut around the interaction (docs section 6)
        "pointRule": "center",
        "crop": "prompt",
        "labels": {"1": "prompted organ"},
        "training": {"upstream": upstream},
    }


def export(model_dir: str, out_dir: str, name: str, fold: str | None, checkpoint_name: str, loader: str, box: str, opset: int) -> tuple[str, str, list[str]]:
    if loader == "session":
        facts = build_from_session(model_dir, fold, checkpoint_name)
    elif loader == "plans":
        facts = build_from_plans(model_dir, fold, checkpoint_name)
    else:
        try:
            facts = build_from_session(model_dir, fold, checkpoint_name)
        except ImportError as e:
            print(f"nnInteractive not importable ({e}); building the network from plans.json with dynamic_network_architectures", file=sys.stderr)
            facts = build_from_plans(model_dir, fold, checkpoint_name)
    if facts["n_image"] != 1:
        raise ExportError(f"{model_dir}: the network takes {facts['n_image']} image channels; UMD Lens feeds one")
    kinds, warnings = card_channels(facts["mapping"], facts["supported"], facts["n_interaction"], box)
    # onnxruntime's InstanceNormalization sums a channel of the whole patch in float32; restated axis by axis
    network = staged_norms(facts["network"].float().eval())
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, f"{name}.onnx")
    dummy = torch.zeros((1, 1 + facts["n_interaction"], *facts["patch_size"]), dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(network, dummy, onnx_path, input_names=["image"], output_names=["logits"], opset_version=opset, do_constant_folding=True)
    card = make_card(facts, name, kinds, model_dir)
    card_path = write_card(out_dir, name, card)
    return onnx_path, card_path, warnings


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", help="nnInteractive model folder (plans.json, dataset.json, inference_info.json, fold_*/)")
    ap.add_argument("out_dir")
    ap.add_argument("--name", default="nninteractive", help="file stem of the .onnx and .umd.json (default nninteractive)")
    ap.add_argument("--fold", default=None, help="fold folder to use (default: the only fold_* there)")
    ap.add_argument("--checkpoint", default="checkpoint_final.pth")
    ap.add_argument("--loader", choices=["auto", "session", "plans"], default="auto", help="auto: nnInteractive's session if importable, else plans")
    ap.add_argument("--box", choices=["auto", "3d", "off"], default="auto", help="auto: box channels only if the checkpoint supports 3D boxes")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args(argv)
    try:
        onnx_path, card_path, warnings = export(a.model_dir, a.out_dir, a.name, a.fold, a.checkpoint, a.loader, a.box, a.opset)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"wrote {onnx_path}\nwrote {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
