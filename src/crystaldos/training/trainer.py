"""``train(config)``: data -> graphs -> Lightning fit -> model directory with weights and card.

Model selection uses the validation split only: the checkpoint with the best ``monitor`` value
is kept, early stopping watches the same value, and the card records validation metrics beside
the mean-spectrum and composition-nearest-neighbour baselines on the same spectra.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from torch_geometric.loader import DataLoader

from crystaldos.datasets.base import DOSDataset
from crystaldos.datasets.splits import random_split, save_splits
from crystaldos.elements import valence_electrons
from crystaldos.errors import DatasetError
from crystaldos.evaluation.baselines import compare_with_baselines
from crystaldos.evaluation.xtal2dos_protocol import xtal2dos_metrics
from crystaldos.graphs.crystal_graph import GraphSettings
from crystaldos.models.domain import training_domain
from crystaldos.models.electronic_heads import (
    HEAD_NAMES,
    N_HEADS,
    ElectronicHeadLoss,
    decode,
    head_scores,
    head_targets,
    split_outputs,
)
from crystaldos.models.presets import get_preset
from crystaldos.models.saving import build_model, make_card, save_model
from crystaldos.prediction.engine import predict_graphs
from crystaldos.safe_io import atomic_write_text
from crystaldos.spectra.grid import Grid
from crystaldos.spectra.grid import preset as grid_preset
from crystaldos.spectra.normalize import normalize
from crystaldos.training.autoencoder import fit_autoencoder
from crystaldos.training.config import ConfigError, TrainConfig
from crystaldos.training.data import graphs_with_targets
from crystaldos.training.history import merge_history, save_earlier_epochs
from crystaldos.training.module import SpectrumModule

log = logging.getLogger(__name__)


def load_training_dataset(config: TrainConfig) -> DOSDataset:
    """The data set named by ``config.dataset`` (a shared-data name or a path); the files
    declare their own normalization, config.normalization is the training target that
    ``dataset_targets`` converts to."""
    from crystaldos.datasets.named import load_dataset

    grid = grid_preset(config.grid) if config.grid else None
    try:
        return load_dataset(config.dataset, data_root=config.data_root, grid=grid,
                            structures=config.structures)
    except DatasetError as err:
        raise ConfigError(str(err)) from None


def _split_ids(dataset: DOSDataset, config: TrainConfig) -> dict[str, list[str]]:
    """Train/val ids among records with structure and spectrum (the data set's own split if it
    has a validation part, else a seeded random split of its training part)."""
    usable = dataset.with_structures().with_spectra()
    by_split = usable.split_ids()
    train, val = by_split.get("train", []), by_split.get("val", [])
    if not val:
        pool = train or usable.ids
        parts = random_split(pool, (1 - config.val_fraction, config.val_fraction, 0.0),
                             seed=config.seed)
        train, val = parts["train"], parts["val"]
    if config.max_train is not None:
        train = train[:config.max_train]
        val = val[:max(2, config.max_train // 4)]
    if not train or not val:
        raise ConfigError(f"{config.dataset}: need training and validation materials with "
                          f"structures and spectra (found {len(train)} and {len(val)})")
    return {"train": train, "val": val}


def dataset_targets(dataset: DOSDataset, normalization: str) -> dict[str, np.ndarray]:
    """Spectra of every record in the requested normalization."""
    out = {}
    for rec in dataset.with_spectra():
        values = rec.dos
        if normalization != dataset.normalization:
            n_val = None
            if normalization == "valence" and rec.crystal is not None:
                n_val = float(valence_electrons(rec.crystal.numbers))
            n_atoms = rec.crystal.n_atoms if rec.crystal is not None else None
            values = normalize(values[None], dataset.grid, normalization, n_valence=n_val,
                               n_atoms=n_atoms)[0][0]
        out[rec.id] = np.asarray(values, dtype=np.float32)
    return out


def resolve_settings(config: TrainConfig, n_out: int) -> tuple[GraphSettings, dict[str, Any],
                                                                dict[str, Any]]:
    """Graph settings, model init arguments and training hyper-parameters from preset+config."""
    preset = get_preset(config.preset)
    graph = GraphSettings.from_dict({**preset["graph"], **config.graph})
    n_features = graph.feature_width
    model = {**preset["model"], **config.model, "atom_features": n_features, "n_out": n_out,
             "cutoff": graph.cutoff}
    training = dict(preset["training"])  # never modify the shared preset
    for key in ("loss", "lr", "weight_decay", "batch_size"):
        value = getattr(config, key)
        if value is not None:
            training[key] = value
    return graph, model, training


def _head_targets(config: TrainConfig, dataset: DOSDataset) -> dict[str, np.ndarray] | None:
    """Gap and metal targets of every record (None when ``electronic_heads`` is 0)."""
    if config.electronic_heads == 0:
        return None
    if config.electronic_heads < 0:
        raise ConfigError(f"electronic_heads must be >= 0, got {config.electronic_heads}")
    if dataset.grid.kind != "electronic":
        raise ConfigError(f"electronic_heads needs an electronic data set; {config.dataset} "
                          f"holds {dataset.grid.kind} spectra")
    lacking = [r.id for r in dataset.with_spectra() if not set(HEAD_NAMES) <= set(r.meta)]
    if lacking:
        raise ConfigError(f"{config.dataset}: {len(lacking)} records have no "
                          f"{' and '.join(HEAD_NAMES)} in their meta (first: {lacking[0]})")
    return {r.id: head_targets(r.meta) for r in dataset.with_spectra()}


def initialize_encoder(model: torch.nn.Module, source: str, graph_settings: GraphSettings,
                       grid: Grid | None = None) -> dict[str, Any]:
    """Copy the weights of ``source`` (a model name or directory) into ``model`` wherever a
    tensor has the same name and shape (an autoencoder-latent model's network counts by its
    ``gnn.`` names). The output heads are copied too when ``source`` predicts on ``grid``, the
    new model's grid (training goes on, for example with another loss); otherwise they start
    fresh. Returns what was copied, for the card."""
    from crystaldos.models.saving import ModelLoadError
    from crystaldos.pretrained import load_pretrained

    try:
        bundle = load_pretrained(source)
    except ModelLoadError as err:
        raise ConfigError(f"init_from {source!r}: {err}") from None
    if bundle.graph_settings != graph_settings:
        raise ConfigError(f"init_from {source!r}: its graph settings differ from this "
                          "model's, so its weights would read other inputs")
    own = model.state_dict()
    theirs = {name.removeprefix("gnn."): tensor
              for name, tensor in bundle.model.state_dict().items()}
    same_outputs = grid is not None and bundle.grid == grid
    copied = {name: tensor for name, tensor in theirs.items()
              if name in own and own[name].shape == tensor.shape
              and (same_outputs or not name.startswith(("head.", "scalar_head.")))}
    if not copied:
        raise ConfigError(f"init_from {source!r}: no weight of that model fits this one")
    model.load_state_dict(copied, strict=False)
    return {"source": bundle.name, "tensors_copied": len(copied), "tensors": len(own),
            "heads_copied": same_outputs}


def _thermal_loss(config: TrainConfig, grid: Grid) -> Any:
    """The Cv/S loss term of ``config`` on ``grid`` (None when its weight is 0)."""
    if config.thermal_weight == 0:
        return None
    from crystaldos.training.thermal import DEFAULT_THERMAL_TEMPERATURES, ThermalLoss

    if config.thermal_weight < 0:
        raise ConfigError(f"thermal_weight must be >= 0, got {config.thermal_weight}")
    if grid.kind != "phonon":
        raise ConfigError(f"thermal_weight needs a phonon data set; {config.dataset} holds "
                          f"{grid.kind} spectra")
    return ThermalLoss(grid, config.thermal_temperatures or DEFAULT_THERMAL_TEMPERATURES)


def train(config: TrainConfig) -> Path:
    """Train a model as configured and write it to ``config.output``; returns that directory."""
    if config.datasets:
        return train_joint(config)
    start_time = time.time()
    _setup(config)
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)

    dataset = load_training_dataset(config)
    normalization = (config.normalization or get_preset(config.preset).get("normalization")
                     or dataset.normalization)
    grid = dataset.grid
    splits = _split_ids(dataset, config)
    targets = dataset_targets(dataset, normalization)
    graph_settings, model_args, hp = resolve_settings(config, grid.count)
    heads = _head_targets(config, dataset)
    if heads is not None:
        model_args["n_scalars"] = N_HEADS

    failures: list[dict[str, str]] = []
    graphs = {}
    for part in ("train", "val"):
        records = dataset.select(splits[part]).records
        graphs[part] = graphs_with_targets(
            records, graph_settings, cache_dir=config.cache_dir, targets=targets,
            head_targets=heads,
            on_failure=lambda i, why: failures.append({"id": i, "reason": why}))
    _write_failures(out, failures)

    ae_report: dict[str, Any] | None = None
    if config.autoencoder is None:
        model_class, init_args = get_preset(config.preset)["model_class"], model_args
        model = build_model(model_class, init_args)
    else:
        ae_cfg = config.autoencoder
        if get_preset(config.preset)["model_class"] != "ALIGNNDOS":
            raise ConfigError(f"preset {config.preset!r}: the autoencoder-latent variant is "
                              "built on ALIGNN presets only")
        pool = set(splits["train"])
        if ae_cfg.use_unstructured_spectra:
            pool |= {r.id for r in dataset.split("train").with_spectra()}
        train_spectra = np.stack([targets[i] for i in sorted(pool)])
        val_spectra = np.stack([targets[i] for i in splits["val"]])
        if heads is not None:
            raise ConfigError("electronic_heads are built on the ALIGNN presets without an "
                              "autoencoder")
        ae, ae_report = fit_autoencoder(train_spectra, val_spectra, ae_cfg, seed=config.seed)
        ae_report["n_train_spectra"] = len(pool)
        model_class = "AELatentALIGNN"
        init_args = {"gnn": model_args,
                     "autoencoder": {"n_points": grid.count, "latent": ae_cfg.latent,
                                     "hidden": list(ae_cfg.hidden), "scale": ae.scale,
                                     "standardize": ae.standardize}}
        model = build_model(model_class, init_args)
        model.autoencoder.load_state_dict(ae.state_dict())  # stays frozen

    transfer = None if config.init_from is None else \
        initialize_encoder(model, config.init_from, graph_settings, grid)
    module = SpectrumModule(model, loss=hp["loss"], lr=hp["lr"],
                            weight_decay=hp["weight_decay"], scheduler=config.scheduler,
                            epochs=config.epochs, thermal=_thermal_loss(config, grid),
                            thermal_weight=config.thermal_weight, w1_weight=config.w1_weight,
                            head_loss=None if heads is None else ElectronicHeadLoss(),
                            head_weight=config.electronic_heads)
    fit = _fit(config, module, graphs, int(hp["batch_size"]), out)
    if fit is None:
        return out
    model = module.model.cpu().eval()

    validation = evaluate_split(model, graphs, dataset, splits, targets, grid)
    if heads is not None:
        validation["heads"] = evaluate_heads(model, graphs, dataset, heads, grid.count)
    if ae_report is not None:
        validation["autoencoder"] = ae_report
    record = _training_record(config, hp, graphs, failures, fit, start_time)
    if transfer is not None:
        record["init_from"] = transfer
    card = make_card(
        model_class, init_args, graph_settings, grid, normalization,
        name=config.name or out.name, aliases=list(config.aliases),
        target={"kind": grid.kind, "dataset": dataset.name, "source": dataset.source,
                **({"energy_zero": dataset.energy_zero} if dataset.energy_zero else {})},
        training=record,
        validation=validation,
        domain=training_domain(r.crystal for r in dataset.select(splits["train"]).records))
    save_splits(splits, out / "splits.json", dataset=dataset.name)
    save_model(out, model, card)
    return out


def _setup(config: TrainConfig) -> None:
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    L.seed_everything(config.seed, workers=True, verbose=False)


def _write_failures(out: Path, failures: list[dict[str, str]]) -> None:
    if failures:
        atomic_write_text(out / "failures.jsonl",
                          "".join(json.dumps(f) + "\n" for f in failures))
        log.warning("%d structures could not be used; see %s", len(failures),
                    out / "failures.jsonl")


def _fit(config: TrainConfig, module: SpectrumModule, graphs: dict[str, list[Any]],
         batch_size: int, out: Path) -> dict[str, Any] | None:
    """Lightning fit with checkpoints on validation, early stopping and CSV logs (kept across
    resumes); loads the best weights into ``module``. None on non-zero ranks."""
    train_loader = DataLoader(graphs["train"], batch_size=batch_size, shuffle=True,
                              num_workers=config.num_workers, drop_last=len(graphs["train"]) >
                              batch_size)
    val_loader = DataLoader(graphs["val"], batch_size=max(batch_size, 64),
                            num_workers=config.num_workers)
    checkpoint = ModelCheckpoint(dirpath=out / "checkpoints", monitor=config.monitor, mode="min",
                                 save_top_k=1, save_last=True, filename="best")
    trainer = L.Trainer(
        max_epochs=config.epochs, accelerator=config.accelerator, devices=config.devices,
        strategy=config.strategy, precision=config.precision,
        callbacks=[checkpoint, EarlyStopping(config.monitor, patience=config.patience)],
        logger=CSVLogger(out, name="logs", version=""), enable_progress_bar=config.progress,
        enable_model_summary=False,
        log_every_n_steps=max(1, min(10, len(train_loader))), default_root_dir=out)
    if config.resume:  # Lightning's logger would delete the epochs before the checkpoint
        resumed_at = torch.load(config.resume, map_location="cpu", weights_only=False)["epoch"]
        save_earlier_epochs(out / "logs", int(resumed_at) + 1)
    trainer.fit(module, train_loader, val_loader, ckpt_path=config.resume)
    if not trainer.is_global_zero:
        return None
    merge_history(out / "logs")
    best_path = checkpoint.best_model_path or checkpoint.last_model_path
    state = torch.load(best_path, map_location="cpu", weights_only=True)["state_dict"]
    module.load_state_dict(state)
    return {"epochs_run": int(trainer.current_epoch), "best_checkpoint": Path(best_path).name,
            "best_score": float(checkpoint.best_model_score)
            if checkpoint.best_model_score is not None else None}


def _training_record(config: TrainConfig, hp: dict[str, Any], graphs: dict[str, list[Any]],
                     failures: list[dict[str, str]], fit: dict[str, Any],
                     start_time: float) -> dict[str, Any]:
    return {"command": config.command, "config": config.to_dict(), "preset": config.preset,
            "hyperparameters": hp, "n_train": len(graphs["train"]),
            "n_val": len(graphs["val"]), "n_failures": len(failures),
            "split_file": "splits.json", **fit, "monitor": config.monitor,
            "seconds": round(time.time() - start_time, 1), "torch": torch.__version__}


def train_joint(config: TrainConfig) -> Path:
    """Joint training on ``config.datasets`` (see :mod:`crystaldos.training.joint`): one model
    on ``config.grid`` (default phdos221), each set compared in its own window and
    normalization; the card holds every set's validation metrics beside its own baselines."""
    from crystaldos.datasets.named import load_dataset
    from crystaldos.training.joint import JointPart, attach_joint_targets, window_offset

    start_time = time.time()
    _setup(config)
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    if config.autoencoder is not None:
        raise ConfigError("joint training does not take an autoencoder")
    model_grid = grid_preset(config.grid or "phdos221")
    parts = []
    for spec in config.datasets:
        try:
            dataset = load_dataset(spec["name"], data_root=config.data_root,
                                   structures=config.structures)
        except DatasetError as err:
            raise ConfigError(str(err)) from None
        parts.append(JointPart(spec["name"], dataset, float(spec.get("weight", 1.0)),
                               window_offset(dataset.grid, model_grid),
                               str(spec.get("normalization", "max"))))
    graph_settings, model_args, hp = resolve_settings(config, model_grid.count)
    graphs: dict[str, list[Any]] = {"train": [], "val": []}
    by_part: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, str]] = []
    for part in parts:
        splits = _split_ids(part.dataset, config)
        targets = dataset_targets(part.dataset, part.normalization)
        mine = {}
        for split in ("train", "val"):
            built = graphs_with_targets(
                part.dataset.select(splits[split]).records, graph_settings,
                cache_dir=config.cache_dir, targets=targets,
                on_failure=lambda i, why, n=part.name: failures.append(
                    {"id": i, "dataset": n, "reason": why}))
            mine[split] = attach_joint_targets(built, part, targets, model_grid)
            graphs[split] += mine[split]
        by_part[part.name] = {"part": part, "splits": splits, "targets": targets,
                              "graphs": mine}
    _write_failures(out, failures)
    model_class = get_preset(config.preset)["model_class"]
    model = build_model(model_class, model_args)
    transfer = None if config.init_from is None else \
        initialize_encoder(model, config.init_from, graph_settings, model_grid)
    module = SpectrumModule(model, loss=hp["loss"], lr=hp["lr"],
                            weight_decay=hp["weight_decay"], scheduler=config.scheduler,
                            epochs=config.epochs, joint_step=model_grid.step,
                            w1_weight=config.w1_weight,
                            thermal=_thermal_loss(config, model_grid),
                            thermal_weight=config.thermal_weight)
    fit = _fit(config, module, graphs, int(hp["batch_size"]), out)
    if fit is None:
        return out
    record = _training_record(config, hp, graphs, failures, fit, start_time)
    if transfer is not None:
        record["init_from"] = transfer
    model = module.model.cpu().eval()
    validation = {name: evaluate_part(model, info["part"], info["graphs"], info["targets"])
                  for name, info in by_part.items()}
    card = make_card(
        model_class, model_args, graph_settings, model_grid, "area",
        name=config.name or out.name, aliases=list(config.aliases),
        target={"kind": model_grid.kind, "dataset": "+".join(p.name for p in parts),
                "datasets": [{"name": p.name, "weight": p.weight,
                              "grid": p.dataset.grid.to_dict(),
                              "normalization": p.normalization} for p in parts]},
        training=record,
        validation={"joint": True, "by_dataset": validation},
        domain=training_domain(r.crystal for info in by_part.values()
                               for r in info["part"].dataset.select(
                                   info["splits"]["train"]).records))
    for name, info in by_part.items():
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name)
        save_splits(info["splits"], out / f"splits-{slug}.json", dataset=name)
    save_model(out, model, card)
    return out


def evaluate_part(model: torch.nn.Module, part: Any, graphs: dict[str, list[Any]],
                  targets: dict[str, np.ndarray]) -> dict[str, Any]:
    """Validation metrics of a joint model on one data set, on that set's own grid and
    normalization, beside the set's own mean-spectrum and composition-kNN baselines."""
    from crystaldos.training.joint import predictions_on_part

    ids = [g.id for g in graphs["val"]]
    true = np.stack([targets[i] for i in ids])
    pred = predictions_on_part(predict_graphs(model, graphs["val"]), part)
    train_ids = [g.id for g in graphs["train"]]
    crystals = {r.id: r.crystal for r in part.dataset.select(train_ids + ids).records}
    metrics, preds = compare_with_baselines(
        pred, true, part.dataset.grid, [crystals[i] for i in train_ids],
        np.stack([targets[i] for i in train_ids]), [crystals[i] for i in ids])
    protocol = {name: xtal2dos_metrics(values, true) for name, values in preds.items()}
    return {"split": "val", **metrics, "xtal2dos_protocol": protocol}


def evaluate_split(model: torch.nn.Module, graphs: dict[str, list[Any]], dataset: DOSDataset,
                   splits: dict[str, list[str]], targets: dict[str, np.ndarray],
                   grid: Any, part: str = "val") -> dict[str, Any]:
    """Metrics of ``model`` on a split beside the mean-spectrum and composition-kNN baselines
    fitted on the training graphs' materials."""
    ids = [g.id for g in graphs[part]]
    true = np.stack([targets[i] for i in ids])
    pred, _ = split_outputs(predict_graphs(model, graphs[part]), grid.count)
    train_ids = [g.id for g in graphs["train"]]
    train_y = np.stack([targets[i] for i in train_ids])
    crystals = {r.id: r.crystal for r in dataset.select(train_ids + ids).records}
    metrics, preds = compare_with_baselines(pred, true, grid, [crystals[i] for i in train_ids],
                                            train_y, [crystals[i] for i in ids])
    protocol = {name: xtal2dos_metrics(values, true) for name, values in preds.items()}
    return {"split": part, **metrics, "xtal2dos_protocol": protocol}


def evaluate_heads(model: torch.nn.Module, graphs: dict[str, list[Any]], dataset: DOSDataset,
                   heads: dict[str, np.ndarray], n_out: int, part: str = "val") -> dict[str, Any]:
    """Scores of the direct heads on a split (:func:`head_scores`), beside the composition
    rule."""
    ids = [g.id for g in graphs[part]]
    _, raw = split_outputs(predict_graphs(model, graphs[part]), n_out)
    species = [r.crystal.species for r in dataset.select(ids).records]
    return {"split": part, **head_scores(*decode(raw), np.stack([heads[i] for i in ids]),
                                         species)}
