"""Training configuration: a dataclass that a YAML file and command-line flags fill in."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from crystaldos.errors import CrystalDosError


class ConfigError(CrystalDosError):
    """A training configuration is invalid."""


@dataclass
class AutoencoderConfig:
    """The spectrum autoencoder of AE-ALIGNN (trained first, on training spectra only)."""

    latent: int = 12
    hidden: list[int] = field(default_factory=lambda: [128, 64])
    epochs: int = 400
    lr: float = 1e-3
    batch_size: int = 128
    use_unstructured_spectra: bool = True  # training spectra whose structure is unknown help too


@dataclass
class TrainConfig:
    """Everything ``crystaldos train`` needs; see ``configs/`` for complete examples.

    ``dataset``: ``jarvis-phonon`` (the leaderboard benchmark in the shared data), ``mp-phonon``
    (Materials Project phonon set), a JSON-lines file or an ``id_prop.csv`` folder.
    ``preset`` picks graph, model and training defaults (see :mod:`crystaldos.models.presets`);
    ``graph``, ``model`` and the scalar fields below override them.
    """

    dataset: str = "jarvis-phonon"
    #: joint training: [{"name": data set, "weight": w, "normalization": max}, ...]; replaces
    #: ``dataset``, and
    #: ``grid`` is then the model's output grid (see crystaldos.training.joint)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    output: str = "runs/model"
    name: str | None = None
    aliases: list[str] = field(default_factory=list)
    data_root: str | None = None
    structures: str = "dft3d"
    grid: str | None = None
    normalization: str | None = None
    preset: str = "fast"
    graph: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    autoencoder: AutoencoderConfig | None = None
    loss: str | None = None
    #: weight of the Cv/S loss term (crystaldos.training.thermal; phonon grids only), and the
    #: temperatures (K) it compares at (default: its DEFAULT_THERMAL_TEMPERATURES)
    thermal_weight: float = 0.0
    thermal_temperatures: list[float] | None = None
    #: weight of the Wasserstein-1 term: the distance between the cumulative unit-area
    #: predicted and true spectra as a fraction of the span (of each set's window in joint
    #: training; crystaldos.training.losses.cdf_distance); 0: none
    w1_weight: float = 0.0
    #: weight of the direct band-gap and metallicity heads (crystaldos.models.electronic_heads;
    #: electronic sets whose records' meta hold band_gap and is_metal); 0: no heads
    electronic_heads: float = 0.0
    #: start from another model's weights (a bundled name or a model directory with the same
    #: graph settings): the encoder always; the output heads too when that model predicts on
    #: this run's grid (training goes on), else they start fresh (transfer to another task)
    init_from: str | None = None
    lr: float | None = None
    weight_decay: float | None = None
    batch_size: int | None = None
    epochs: int = 100
    scheduler: str = "onecycle"
    patience: int = 30
    monitor: str = "val_mae"
    seed: int = 0
    val_fraction: float = 0.1
    max_train: int | None = None
    accelerator: str = "auto"
    devices: Any = "auto"
    strategy: str = "auto"
    precision: str = "32-true"
    num_threads: int | None = None
    num_workers: int = 0
    cache_dir: str | None = None
    resume: str | None = None
    progress: bool = True
    command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown setting(s) {', '.join(unknown)}")
        data = dict(data)
        ae = data.get("autoencoder")
        if isinstance(ae, dict):
            ae_known = {f.name for f in fields(AutoencoderConfig)}
            bad = sorted(set(ae) - ae_known)
            if bad:
                raise ConfigError(f"{source}: unknown autoencoder setting(s) {', '.join(bad)}")
            data["autoencoder"] = AutoencoderConfig(**ae)
        elif ae is True:
            data["autoencoder"] = AutoencoderConfig()
        for spec in data.get("datasets") or []:
            if not isinstance(spec, dict) or "name" not in spec or \
                    set(spec) - {"name", "weight", "normalization"}:
                raise ConfigError(f"{source}: each of datasets needs a name and may have a "
                                  f"weight and a normalization, got {spec!r}")
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a config must be a mapping of settings")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(data, str(path))
