import pytest

from crystaldos.datasets import load_splits, random_split, save_splits


def test_random_split_is_deterministic_and_order_free(tmp_path):
    ids = [f"id{k}" for k in range(100)]
    a = random_split(ids, seed=3)
    b = random_split(list(reversed(ids)), seed=3)
    assert a == b
    assert [len(a[k]) for k in ("train", "val", "test")] == [80, 10, 10]
    assert set(a["train"]) | set(a["val"]) | set(a["test"]) == set(ids)
    assert random_split(ids, seed=4) != a
    path = save_splits(a, tmp_path / "splits.json", seed=3)
    assert load_splits(path) == a


def test_split_validation(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        random_split(["a", "a"])
    with pytest.raises(ValueError, match="sum"):
        random_split(["a"], fractions=(0.5, 0.1, 0.1))
    (tmp_path / "s.json").write_text('{"valid": ["a"], "train": ["b"]}')
    assert load_splits(tmp_path / "s.json") == {"val": ["a"], "train": ["b"]}
