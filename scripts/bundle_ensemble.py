"""Bundle a deep ensemble of trained members with its validation record.

    python scripts/bundle_ensemble.py runs/mp-phdos-thermo runs/mp-phdos-thermo-s1 \
        runs/mp-phdos-thermo-s2 runs/mp-phdos-thermo-s3 runs/mp-phdos-thermo-s4 \
        --output src/crystaldos/pretrained/mp-phdos-ens --name mp-phdos-ens --alias mp-phdos-v2

With ``--members-of ENSEMBLE`` the members are those of an ensemble already made (unpacked by
:func:`crystaldos.models.ensemble.unpack_members`, with its ``splits.json``); ``--guest MODEL
REPEAT`` adds a model on a wider grid (the joint ``phdos``) counted REPEAT times in the mean:

    python scripts/bundle_ensemble.py --members-of <the five-member mp-phdos-ens> \
        --guest phdos 5 --output src/crystaldos/pretrained/mp-phdos-ens --name mp-phdos-ens \
        --alias mp-phdos-v3

Joins the members (:func:`crystaldos.models.ensemble.assemble_ensemble`), copies the first
member's ``splits.json`` (every member used the data set's own split), and writes the
validation metrics of the ensemble's mean spectrum beside both baselines into the card, as
``crystaldos train`` does for one model (``--validate-on SET``: on that set's own val split).
Calibrate its spreads afterwards with
``benchmarks/uncertainty_calibration.py --write-card``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np


def main() -> None:
    from crystaldos.datasets.named import load_dataset
    from crystaldos.evaluation.baselines import compare_with_baselines
    from crystaldos.models.ensemble import assemble_ensemble, unpack_members
    from crystaldos.models.saving import CARD_FILE, load_model
    from crystaldos.prediction.pipeline import PredictionPipeline
    from crystaldos.prediction.schema import Failure
    from crystaldos.safe_io import atomic_write_text
    from crystaldos.training.trainer import dataset_targets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("members", nargs="*", type=Path)
    parser.add_argument("--members-of", type=Path, default=None,
                        help="take the members of this ensemble directory (a copy: the "
                        "output may replace it)")
    parser.add_argument("--guest", nargs=2, action="append", default=[],
                        metavar=("MODEL", "REPEAT"), help="a model on a grid of which the "
                        "members' grid is a window, counted REPEAT times in the mean")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--alias", action="append", default=[])
    parser.add_argument("--gap-trees", default=None, help="bundled gap trees (a folder name "
                        "under crystaldos/pretrained, e.g. gap-trees) that give the rows' "
                        "metal probability and band gap in place of the members' heads")
    parser.add_argument("--caveat", default=None, help="what a user must know before "
                        "trusting the model (shown by crystaldos models and the web page)")
    parser.add_argument("--validate-on", default=None, help="score on the train/val split of "
                        "this data set (its records' own split) instead of the members' "
                        "splits.json: ensembles trained on two versions of a growing set "
                        "compared on the same materials")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    if args.members_of is not None:
        copy = Path(scratch.name) / "source"
        shutil.copytree(args.members_of, copy)
        args.members += unpack_members(copy, Path(scratch.name) / "members")
        shutil.copy(copy / "splits.json", args.members[0] / "splits.json")
    if not args.members or len(args.members) + len(args.guest) < 2:
        sys.exit("error: an ensemble needs at least 2 models, one of them a member")
    first = json.loads((args.members[0] / CARD_FILE).read_text())
    dataset_name = first["training"]["config"]["dataset"]
    seconds = sum(json.loads((m / CARD_FILE).read_text())["training"]["seconds"]
                  for m in args.members)
    path = assemble_ensemble(args.members, args.output, name=args.name, aliases=args.alias,
                             guests=[(model, int(repeat)) for model, repeat in args.guest],
                             training={"command": " ".join(["python", *sys.argv]),
                                       "member_command": first["training"].get("command"),
                                       "dataset": dataset_name, "seconds": seconds})
    shutil.copy(args.members[0] / "splits.json", path / "splits.json")
    scratch.cleanup()
    if args.members_of is not None:  # the unpacked copies are gone: name where they came from
        card = json.loads((path / CARD_FILE).read_text())
        for k, member in enumerate(card["members"]):
            if member["directory"].startswith(scratch.name):
                member["directory"] = f"{args.members_of} (member {k})"
        atomic_write_text(path / CARD_FILE, json.dumps(card, indent=1) + "\n")
    extra = {k: v for k, v in (("gap_trees", args.gap_trees), ("caveat", args.caveat)) if v}
    if extra:
        card = json.loads((path / CARD_FILE).read_text())
        atomic_write_text(path / CARD_FILE, json.dumps({**card, **extra}, indent=1) + "\n")
    if args.validate_on is None:
        splits = json.loads((path / "splits.json").read_text())
        dataset = load_dataset(dataset_name).with_structures().with_spectra()
        train = dataset.select(splits["train"]).records
        val = dataset.select(splits["val"]).records
    else:
        dataset = load_dataset(args.validate_on).with_structures().with_spectra()
        train, val = dataset.split("train").records, dataset.split("val").records
    bundle = load_model(path)
    targets = dataset_targets(dataset, bundle.normalization)  # the members' training normalization
    rows = list(PredictionPipeline(bundle, normalization=bundle.normalization)
                .run([r.crystal for r in val]))
    if any(isinstance(r, Failure) for r in rows):
        sys.exit("error: a validation structure failed")
    metrics, _ = compare_with_baselines(np.stack([r.dos for r in rows]),
                                        np.stack([targets[r.id] for r in val]), dataset.grid,
                                        [r.crystal for r in train],
                                        np.stack([targets[r.id] for r in train]),
                                        [r.crystal for r in val])
    card = json.loads((path / CARD_FILE).read_text())
    card["validation"] = {"split": "val", **metrics,
                          **({"dataset": args.validate_on} if args.validate_on else {})}
    if "metal_probability" in rows[0].values:
        card["validation"]["heads"] = head_metrics(rows, val)
    atomic_write_text(path / CARD_FILE, json.dumps(card, indent=1) + "\n")
    m = metrics["model"]
    print(f"{args.name}: {len(args.members)} members, val MAE {m['mae']:.4f} (mean spectrum "
          f"{metrics['mean_spectrum']['mae']:.4f}, composition kNN "
          f"{metrics['composition_knn']['mae']:.4f}), W1 {m['wasserstein']:.2f}")


def head_metrics(rows: list, val: list) -> dict:
    """Validation of the rows' gap and metal probability (the ensemble's mean heads, or the
    gap trees the card names), scored as the trainer scores one model's heads."""
    from crystaldos.models.electronic_heads import head_scores, head_targets

    return {"split": "val", **head_scores(
        np.array([row.values["band_gap_direct_eV"] for row in rows]),
        np.array([row.values["metal_probability"] for row in rows]),
        np.stack([head_targets(r.meta) for r in val]), [r.crystal.species for r in val])}


if __name__ == "__main__":
    main()
