"""Seconds per training epoch: the Xtal2DoS decoders against the ALIGNN-DOS default, one run.

All models train on the same Materials Project phonon training structures (1,192 by default),
batch 32, AdamW, their own preset losses (KL on unit-sum spectra for Xtal2DoS, MAE for
ALIGNN-DOS `fast`), on this machine's CPU threads. Graphs are built once per graph setting before
timing (the Xtal2DoS graphs have no line graph). Each model runs one warm-up epoch, then the
median of ``--epochs`` timed epochs is reported. The Xtal2DoS paper reports 11 s per epoch for
its transformer decoder against 31-69 s for RNN baselines, on a GPU and its own data size.

    python benchmarks/xtal2dos_epoch_speed.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch_geometric.loader import DataLoader

from crystaldos.datasets.shared import load_mp_phonon
from crystaldos.graphs.atom_features import atom_feature_table
from crystaldos.graphs.crystal_graph import GraphSettings
from crystaldos.models.presets import get_preset
from crystaldos.models.saving import build_model
from crystaldos.spectra.normalize import normalize
from crystaldos.training.data import graphs_with_targets
from crystaldos.training.losses import get_loss

MODELS = (("xtal2dos", "transformer"), ("xtal2dos", "gru"), ("xtal2dos", "gru_attention"),
          ("xtal2dos", "chunk_gru"), ("fast", None))


def epoch_seconds(model: torch.nn.Module, loader: DataLoader, loss_name: str,
                  epochs: int) -> list[float]:
    loss_fn = get_loss(loss_name)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    times = []
    for k in range(epochs + 1):  # the first epoch is a warm-up
        start = time.perf_counter()
        for batch in loader:
            opt.zero_grad()
            loss_fn(model(batch), batch.y).backward()
            opt.step()
        if k:
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per model")
    parser.add_argument("--structures", type=int, default=None, help="use only this many")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_mp_phonon().with_structures().split("train").with_spectra()
    records = data.records[:args.structures] if args.structures else data.records
    results = {}
    for preset_name, decoder in MODELS:
        preset = get_preset(preset_name)
        settings = GraphSettings.from_dict(preset["graph"])
        norm = preset.get("normalization", "max")
        targets = {r.id: normalize(r.dos, data.grid, norm)[0].astype("float32") for r in records}
        graphs = graphs_with_targets(records, settings, targets=targets)
        args_ = {**preset["model"], "atom_features": int(atom_feature_table(
            settings.atom_features).shape[1]), "n_out": data.grid.count,
            "cutoff": settings.cutoff}
        if decoder is not None:
            args_["decoder"] = decoder
        torch.manual_seed(0)
        model = build_model(preset["model_class"], args_)
        loader = DataLoader(graphs, batch_size=32, shuffle=True)
        times = epoch_seconds(model, loader, preset["training"]["loss"], args.epochs)
        name = f"Xtal2DoS {decoder}" if decoder else "ALIGNN-DOS fast"
        results[name] = {"seconds_per_epoch": statistics.median(times),
                         "parameters": sum(p.numel() for p in model.parameters()),
                         "structures": len(graphs)}
        print(f"{name:26s} {results[name]['seconds_per_epoch']:7.2f} s/epoch  "
              f"{results[name]['parameters']:>9,d} parameters", flush=True)
    print(json.dumps({"threads": args.threads, "results": results}))


if __name__ == "__main__":
    main()
