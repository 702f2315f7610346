from pathlib import Path

import numpy as np

from crystaldos.datasets import load_jsonl
from crystaldos.training.data import graphs_with_targets
from crystaldos.training.scalar import train_scalar_regressor


def test_scalar_regressor_learns_a_structure_property(toy_dataset_file: Path,
                                                      tmp_path: Path) -> None:
    data = load_jsonl(toy_dataset_file)
    train, val = data.split("train").records, data.split("val").records
    # a property of the structure: volume per atom, and its square
    targets = {r.id: np.array([r.crystal.volume / r.crystal.n_atoms,
                               (r.crystal.volume / r.crystal.n_atoms) ** 2])
               for r in data.records}
    reg = train_scalar_regressor(train, val, targets, ("v", "v2"), preset="tiny", epochs=25,
                                 patience=25, workdir=tmp_path)
    assert reg.names == ("v", "v2") and reg.mean.shape == (2,)
    graphs = graphs_with_targets(train, reg.graph_settings)
    pred = reg.predict_graphs(graphs)
    true = np.stack([targets[r.id] for r in train])
    # it must beat predicting the training mean on the data it was fitted to
    assert np.abs(pred - true).mean(axis=0)[0] < np.abs(true - true.mean(axis=0)).mean(axis=0)[0]
