#!/usr/bin/python3
"""Surface metrics of two label maps in Python: the reference UMD Lens's metrics are timed and checked against.

Two implementations, chosen with --impl:

  scipy     (default) "a good Python reference": our own code, with the same semantics as
            src/core/metrics/surface.ts (which are DeepMind surface-distance's). Per label: the union bounding box
            of the label in either map (scipy.ndimage.find_objects, one C pass per map for all labels, inside the box
            of everything labelled), the crop
            zero-padded by one voxel, 2x2x2 corner codes with scipy.ndimage.correlate and the neighbourhood kernel
            below, surfels = codes not 0 and not 255, surfel areas from a 256-entry table, exact Euclidean distances
            in mm with scipy.ndimage.distance_transform_edt(sampling=spacing) on the crop, surfels sorted by
            (distance, area) with np.lexsort, then nsd / hd95 / hd / assd vectorized in numpy. The statistics use the
            same numpy reductions as DeepMind's library (np.sum of masked arrays, np.cumsum / np.sum and
            np.searchsorted for the percentile), so on the same surfels the numbers are identical.
  deepmind  DeepMind's own library (github.com/google-deepmind/surface-distance, package `surface_distance`, found in
            --deepmind DIR), used the way its users use it: per label compute_surface_distances(gt == l, pred == l,
            spacing) on the full volume, then compute_surface_dice_at_tolerance, compute_robust_hausdorff(95) and
            compute_robust_hausdorff(100); assd from the returned arrays.

Surfel area table (scipy impl): --areas-json FILE (a JSON list of 256 areas in mm^2 for the spacing, or
{"spacing_mm": [...], "areas": [...]}; the benchmark writes it from UMD Lens's surfelAreaTable), else, with
--deepmind DIR, DeepMind's lookup_tables.create_table_neighbour_code_to_surface_area(spacing).

Empty masks follow UMD Lens's rule: both empty -> status both-empty, every score null; only the prediction has
the label -> false-positive, nsd 0, distances null; only the ground truth -> missed, nsd 0, distances null.

The reported `seconds` is compute time only: NIfTI reading (and decompression) is excluded.

  /usr/bin/python3 bench/reference/surface_metrics_scipy.py gt.nii.gz pred.nii.gz --tau 1 --labels 1,2,3 --json \
      [--impl scipy|deepmind] [--deepmind DIR] [--areas-json FILE] [--spacing s0,s1,s2]

Needs numpy, scipy and nibabel only (Debian's python3-numpy, python3-scipy, python3-nibabel).
"""
import argparse
import json
import os
import resource
import sys
import time

import nibabel as nib
import numpy as np
from scipy import ndimage

# Weight of each voxel of the 2x2x2 neighbourhood of a voxel corner: kernel[a, b, c] weighs the voxel at offset
# (a, b, c) - 1 along (x0, x1, x2); the code's bit 7 - (4a + 2b + c). The layout DeepMind's library uses.
NEIGHBOURHOOD_KERNEL = np.array([[[128, 64], [32, 16]], [[8, 4], [2, 1]]], dtype=np.uint8)


def load_labels(path):
    img = nib.load(path)
    data = np.asanyarray(img.dataobj)
    if data.ndim != 3:
        data = data.reshape(data.shape[:3])
    if not np.issubdtype(data.dtype, np.integer):
        rounded = np.rint(data)
        if not np.array_equal(rounded, data):
            raise SystemExit(f"{path}: label map holds non-integer values")
        data = rounded.astype(np.uint16)
    return data, img


def spacing_of(img):
    """Voxel spacing in mm: the norms of the affine's columns, as UMD Lens's spacingMm."""
    return [float(v) for v in np.linalg.norm(img.affine[:3, :3], axis=0)]


def load_area_table(args, spacing):
    if args.areas_json:
        with open(args.areas_json) as f:
            t = json.load(f)
        if isinstance(t, dict):
            if "spacing_mm" in t and [float(s) for s in t["spacing_mm"]] != list(spacing):
                raise SystemExit(f"--areas-json is for spacing {t['spacing_mm']}, the volumes have {spacing}")
            t = t["areas"]
        table = np.asarray(t, dtype=np.float64)
        if table.shape != (256,):
            raise SystemExit(f"--areas-json must hold 256 areas, got shape {table.shape}")
        return table
    if args.deepmind:
        return import_deepmind(args.deepmind).lookup_tables.create_table_neighbour_code_to_surface_area(spacing)
    raise SystemExit("the scipy reference needs a surfel area table: --areas-json FILE or --deepmind DIR")


def import_deepmind(directory):
    if not os.path.isdir(os.path.join(directory, "surface_distance")):
        raise SystemExit(f"no surface_distance package in {directory}")
    sys.path.insert(0, os.path.abspath(directory))
    import surface_distance  # noqa: E402  (DeepMind's library, outside this repository)
    import surface_distance.lookup_tables  # noqa: F401,E402
    return surface_distance


def union_boxes(gt, pred, labels):
    """Per label the union of its bounding boxes in both maps, as slices (None where absent from both): first the box
    of everything labelled (three projections), then scipy.ndimage.find_objects inside it, one C pass per map."""
    top = max(labels)
    labelled = (gt != 0) | (pred != 0)
    outer = []
    for axis in range(3):
        idx = np.flatnonzero(labelled.any(axis=tuple(a for a in range(3) if a != axis)))
        if len(idx) == 0:
            return {l: None for l in labels}
        outer.append(slice(int(idx[0]), int(idx[-1]) + 1))
    outer = tuple(outer)
    fg = ndimage.find_objects(gt[outer], max_label=top)
    fp = ndimage.find_objects(pred[outer], max_label=top)
    out = {}
    for l in labels:
        a, b = fg[l - 1], fp[l - 1]
        if a is None and b is None:
            out[l] = None
            continue
        boxes = [x for x in (a, b) if x is not None]
        out[l] = tuple(slice(o.start + min(x[ax].start for x in boxes), o.start + max(x[ax].stop for x in boxes))
                       for ax, o in enumerate(outer))
    return out


def surfels(mask_crop):
    """Corner codes of a cropped mask zero-padded by one voxel: correlate sees the constant 0 before the crop, the
    explicit zero row after it. Returns (codes, surfel mask)."""
    padded = np.zeros(tuple(s + 1 for s in mask_crop.shape), np.uint8)
    padded[:-1, :-1, :-1] = mask_crop
    codes = ndimage.correlate(padded, NEIGHBOURHOOD_KERNEL, mode="constant", cval=0)
    return codes, (codes != 0) & (codes != 255)


def sorted_surfels(dist_map, codes, border, areas):
    d = dist_map[border]
    a = areas[codes[border]]
    order = np.lexsort((a, d))  # by distance, then area: the order of sorting (distance, area) tuples
    return d[order], a[order]


def percentile_distance(d, a, percent):
    cum = np.cumsum(a) / np.sum(a)
    idx = np.searchsorted(cum, percent / 100.0)
    return float(d[min(idx, len(d) - 1)])


def scores(d_gp, a_g, d_pg, a_p, tau, hd_percentile):
    tot_g, tot_p = np.sum(a_g), np.sum(a_p)
    nsd = (np.sum(a_g[d_gp <= tau]) + np.sum(a_p[d_pg <= tau])) / (tot_g + tot_p)
    hd95 = max(percentile_distance(d_gp, a_g, hd_percentile), percentile_distance(d_pg, a_p, hd_percentile))
    hd = max(float(d_gp[-1]), float(d_pg[-1]))
    assd = (np.sum(d_gp * a_g) + np.sum(d_pg * a_p)) / (tot_g + tot_p)
    return {"nsd": float(nsd), "hd95": hd95, "hd": hd, "assd": float(assd),
            "surface_gt_mm2": float(tot_g), "surface_pred_mm2": float(tot_p),
            "surfels_gt": int(len(a_g)), "surfels_pred": int(len(a_p))}


def empty_rule(has_gt, has_pred):
    if not has_gt and not has_pred:
        return {"status": "both-empty", "nsd": None, "hd95": None, "hd": None, "assd": None}
    if not has_gt:
        return {"status": "false-positive", "nsd": 0.0, "hd95": None, "hd": None, "assd": None}
    return {"status": "missed", "nsd": 0.0, "hd95": None, "hd": None, "assd": None}


def run_scipy(gt, pred, labels, spacing, areas, tau, hd_percentile):
    out = {}
    stages = {"boxes": 0.0, "crops_codes": 0.0, "edt": 0.0, "sort_scores": 0.0}
    t = time.perf_counter()
    boxes = union_boxes(gt, pred, labels)
    stages["boxes"] += time.perf_counter() - t
    for l in labels:
        sl = boxes[l]
        if sl is None:
            out[str(l)] = empty_rule(False, False)
            continue
        t = time.perf_counter()
        mg = gt[sl] == l
        mp = pred[sl] == l
        has_g, has_p = bool(mg.any()), bool(mp.any())
        if not (has_g and has_p):
            out[str(l)] = empty_rule(has_g, has_p)
            stages["crops_codes"] += time.perf_counter() - t
            continue
        codes_g, border_g = surfels(mg)
        codes_p, border_p = surfels(mp)
        t2 = time.perf_counter()
        stages["crops_codes"] += t2 - t
        dist_to_g = ndimage.distance_transform_edt(~border_g, sampling=spacing)
        dist_to_p = ndimage.distance_transform_edt(~border_p, sampling=spacing)
        t3 = time.perf_counter()
        stages["edt"] += t3 - t2
        d_gp, a_g = sorted_surfels(dist_to_p, codes_g, border_g, areas)
        d_pg, a_p = sorted_surfels(dist_to_g, codes_p, border_p, areas)
        out[str(l)] = {"status": "ok", **scores(d_gp, a_g, d_pg, a_p, tau, hd_percentile)}
        stages["sort_scores"] += time.perf_counter() - t3
    return out, stages


def run_deepmind(sd, gt, pred, labels, spacing, tau, hd_percentile):
    out = {}
    for l in labels:
        d = sd.compute_surface_distances(gt == l, pred == l, spacing)
        d_gp, a_g = d["distances_gt_to_pred"], d["surfel_areas_gt"]
        d_pg, a_p = d["distances_pred_to_gt"], d["surfel_areas_pred"]
        if len(a_g) == 0 or len(a_p) == 0:
            out[str(l)] = empty_rule(len(a_g) > 0, len(a_p) > 0)
            continue
        nsd = sd.compute_surface_dice_at_tolerance(d, tau)
        hd95 = sd.compute_robust_hausdorff(d, hd_percentile)
        hd = sd.compute_robust_hausdorff(d, 100)
        tot_g, tot_p = np.sum(a_g), np.sum(a_p)
        assd = (np.sum(d_gp * a_g) + np.sum(d_pg * a_p)) / (tot_g + tot_p)
        out[str(l)] = {"status": "ok", "nsd": float(nsd), "hd95": float(hd95), "hd": float(hd), "assd": float(assd),
                       "surface_gt_mm2": float(tot_g), "surface_pred_mm2": float(tot_p),
                       "surfels_gt": int(len(a_g)), "surfels_pred": int(len(a_p))}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gt")
    ap.add_argument("pred")
    ap.add_argument("--labels", help="comma-separated label ids (default: every label > 0 in either map)")
    ap.add_argument("--tau", type=float, default=1.0, help="NSD tolerance in mm (default 1)")
    ap.add_argument("--hd-percentile", type=float, default=95.0)
    ap.add_argument("--impl", choices=["scipy", "deepmind"], default="scipy")
    ap.add_argument("--deepmind", metavar="DIR", help="directory holding DeepMind's surface_distance package")
    ap.add_argument("--areas-json", metavar="FILE", help="surfel area table (256 areas) for the scipy impl")
    ap.add_argument("--spacing", help="s0,s1,s2 in mm (default: norms of the affine's columns)")
    ap.add_argument("--json", action="store_true", help="print one JSON object (default: a table)")
    args = ap.parse_args()

    gt, gt_img = load_labels(args.gt)
    pred, _ = load_labels(args.pred)
    if gt.shape != pred.shape:
        raise SystemExit(f"ground truth {gt.shape} and prediction {pred.shape} are not on one grid")
    spacing = [float(s) for s in args.spacing.split(",")] if args.spacing else spacing_of(gt_img)
    labels = ([int(x) for x in args.labels.split(",") if x.strip()] if args.labels
              else sorted((set(np.unique(gt).tolist()) | set(np.unique(pred).tolist())) - {0}))
    labels = [l for l in labels if l > 0]

    if args.impl == "scipy":
        areas = load_area_table(args, spacing)
        t = time.perf_counter()
        res, stages = run_scipy(gt, pred, labels, spacing, areas, args.tau, args.hd_percentile)
        seconds = time.perf_counter() - t
    else:
        if not args.deepmind:
            raise SystemExit("--impl deepmind needs --deepmind DIR")
        sd = import_deepmind(args.deepmind)
        t = time.perf_counter()
        res = run_deepmind(sd, gt, pred, labels, spacing, args.tau, args.hd_percentile)
        seconds = time.perf_counter() - t
        stages = None

    out = {"impl": args.impl, "seconds": seconds, "stages_seconds": stages, "spacing_mm": spacing,
           "dims": list(gt.shape), "tau_mm": args.tau, "hd_percentile": args.hd_percentile,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                        "scipy": __import__("scipy").__version__, "nibabel": nib.__version__},
           "labels": res}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{args.impl}: {seconds:.3f} s compute, spacing {spacing}, tau {args.tau} mm")
        for l, r in res.items():
            vals = "  ".join(f"{k} {r[k]:.6g}" if isinstance(r[k], float) else f"{k} {r[k]}"
                             for k in ("status", "nsd", "hd95", "hd", "assd"))
            print(f"  label {l}: {vals}")


if __name__ == "__main__":
    main()
