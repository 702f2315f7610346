import numpy as np
import pytest

from crystaldos.embeddings import (
    MomentsEmbedding,
    bonded_pairs,
    closed_walk_sums,
    simple_cycle_sums,
)
from crystaldos.errors import StructureError
from crystaldos.structures.crystal import Crystal
from crystaldos.structures.readers import from_arrays
from tests.conftest import rocksalt


def brute_force_walks(crystal: Crystal, length: int, factor: float = 1.2) -> np.ndarray:
    """Sum of exp(-total length) over every closed walk in the infinite crystal, by explicit
    enumeration of (atom, image) paths."""
    bonds = bonded_pairs(crystal, factor)
    out = np.zeros(crystal.n_atoms)
    by_center: dict[int, list[tuple[int, tuple[int, ...], float]]] = {}
    for c, j, s, d in zip(bonds.centers, bonds.neighbors, bonds.shifts, bonds.lengths,
                          strict=True):
        by_center.setdefault(int(c), []).append((int(j), tuple(int(v) for v in s), float(d)))

    def walk(atom: int, image: tuple[int, ...], steps: int, total: float, home: int) -> float:
        if steps == 0:
            return np.exp(-total) if (atom == home and image == (0, 0, 0)) else 0.0
        acc = 0.0
        for j, s, d in by_center.get(atom, []):
            acc += walk(j, tuple(a + b for a, b in zip(image, s, strict=True)), steps - 1,
                        total + d, home)
        return acc

    for i in range(crystal.n_atoms):
        out[i] = walk(i, (0, 0, 0), length, 0.0, i)
    return out


def jitter(crystal: Crystal, rng: np.random.Generator) -> Crystal:
    """The crystal with every atom moved by ~0.05 Å, so no two bonds have the same length."""
    return from_arrays(crystal.lattice, crystal.species,
                       positions=crystal.positions + rng.normal(0, 0.05, crystal.positions.shape),
                       validate=False)


def simple_cubic(a: float = 2.0) -> Crystal:
    return from_arrays(np.eye(3) * a, ["Si"], positions=[[0, 0, 0]], validate=False)


def test_periodic_images_in_a_cell_smaller_than_the_bond_cutoff() -> None:
    # one atom bonded only to its own 6 images: the closed walks of the simple cubic lattice
    walks = closed_walk_sums(simple_cubic(), 8)[0, :, 0]
    counts = walks / np.exp(-2.0 * np.arange(2, 9))
    np.testing.assert_allclose(counts, [6, 0, 90, 0, 1860, 0, 44730], rtol=1e-12)


@pytest.mark.parametrize("length", [2, 3, 4, 5])
def test_walk_sums_match_brute_force(length: int) -> None:
    rng = np.random.default_rng(length)
    for crystal in (rocksalt(4.6), simple_cubic(2.2)):
        jittered = jitter(crystal, rng)
        ours = closed_walk_sums(jittered, length).sum(axis=2)[:, length - 2]
        np.testing.assert_allclose(ours, brute_force_walks(jittered, length), rtol=1e-10)


def test_species_groups_split_the_total() -> None:
    crystal = rocksalt(4.6)
    # a bond factor of 0.9 bonds Na-Cl (2.30 Å) only, so the bond graph is bipartite
    split = closed_walk_sums(crystal, 4, factor=0.9)  # species Na (11), Cl (17)
    assert split.shape == (8, 3, 2)
    na = crystal.numbers == 11
    assert np.all(split[na, :, 0] == 0) and np.all(split[na, 0, 1] > 0)
    assert np.all(split[~na, :, 1] == 0)
    assert np.all(split[:, 1, :] == 0)  # no closed walk of odd length on a bipartite graph
    np.testing.assert_allclose(split.sum(axis=2)[:, 2], brute_force_walks(crystal, 4, 0.9))


def test_embedding_is_invariant_to_translation_and_permutes_with_atoms() -> None:
    rng = np.random.default_rng(0)
    base = rocksalt(4.6)
    crystal = from_arrays(base.lattice, base.species,
                          positions=base.positions + rng.normal(0, 0.05, (8, 3)), validate=False)
    emb = MomentsEmbedding((11, 17), max_length=6, n_neighbors=4)
    x = emb(crystal)
    assert x.shape == (8, emb.size) == (8, 5 * 2 + 4 * 5)
    moved = from_arrays(crystal.lattice, crystal.species,
                        positions=crystal.positions + np.array([0.7, -1.3, 2.1]), validate=False)
    np.testing.assert_allclose(emb(moved), x, atol=1e-10)
    perm = rng.permutation(8)
    permuted = from_arrays(crystal.lattice, [crystal.species[k] for k in perm],
                           positions=crystal.positions[perm], validate=False)
    np.testing.assert_allclose(emb(permuted), x[perm], atol=1e-10)


def test_embedding_length_does_not_depend_on_the_structure() -> None:
    emb = MomentsEmbedding((11, 14, 17), max_length=4, n_neighbors=2)
    assert emb(rocksalt()).shape[1] == emb(simple_cubic()).shape[1] == emb.size
    with pytest.raises(StructureError, match="not in the embedding's species"):
        MomentsEmbedding((11,), 4, 2)(rocksalt())
    with pytest.raises(ValueError, match="at least 2"):
        closed_walk_sums(rocksalt(), 1)


def brute_force_cycles(crystal: Crystal, length: int, factor: float = 1.2) -> np.ndarray:
    """Simple cycles (and out-and-back paths for length 2) by explicit recursion."""
    bonds = bonded_pairs(crystal, factor)
    by_center: dict[int, list[tuple[int, tuple[int, ...], float]]] = {}
    for c, j, s, d in zip(bonds.centers, bonds.neighbors, bonds.shifts, bonds.lengths,
                          strict=True):
        by_center.setdefault(int(c), []).append((int(j), tuple(int(v) for v in s), float(d)))
    out = np.zeros(crystal.n_atoms)

    def extend(path: list[tuple[int, tuple[int, ...]]], total: float) -> float:
        atom, image = path[-1]
        acc = 0.0
        for j, s, d in by_center.get(atom, []):
            node = (j, tuple(a + b for a, b in zip(image, s, strict=True)))
            if len(path) == length:
                acc += np.exp(-(total + d)) if node == path[0] else 0.0
            elif node not in path:
                acc += extend([*path, node], total + d)
        return acc

    for i in range(crystal.n_atoms):
        out[i] = extend([(i, (0, 0, 0))], 0.0)
    return out


@pytest.mark.parametrize("length", [2, 3, 4, 5])
def test_simple_cycles_match_brute_force(length: int) -> None:
    rng = np.random.default_rng(10 + length)
    for crystal in (rocksalt(4.6), simple_cubic(2.2)):
        jittered = jitter(crystal, rng)
        ours = simple_cycle_sums(jittered, length).sum(axis=2)[:, length - 2]
        np.testing.assert_allclose(ours, brute_force_cycles(jittered, length), rtol=1e-10)


def test_simple_cycles_of_the_simple_cubic_lattice() -> None:
    # one atom, six bonds to its own images: 6 out-and-back paths, no odd cycles, 24 squares
    # (6 first steps x 4 perpendicular turns), and no repeated node allowed beyond that
    cycles = simple_cycle_sums(simple_cubic(), 4)[0, :, 0] / np.exp(-2.0 * np.arange(2, 5))
    np.testing.assert_allclose(cycles, [6, 0, 24], rtol=1e-12)
    walks = closed_walk_sums(simple_cubic(), 4)[0, :, 0] / np.exp(-2.0 * np.arange(2, 5))
    assert walks[2] > cycles[2]  # walks also count back-and-forth paths of length 4
    with pytest.raises(ValueError, match="open paths"):
        simple_cycle_sums(simple_cubic(), 6, max_paths=10)


def test_smaller_embeddings_are_column_slices_of_the_largest() -> None:
    crystal = rocksalt(4.6)
    big = MomentsEmbedding((11, 17), max_length=6, n_neighbors=4)
    full = big(crystal)
    for n, neighbors in ((2, 0), (4, 2), (6, 4), (3, 1)):
        small = MomentsEmbedding((11, 17), max_length=n, n_neighbors=neighbors)
        np.testing.assert_allclose(full[:, big.columns_of(n, neighbors)], small(crystal))
    assert MomentsEmbedding(**big.config()) == big
    cycles = MomentsEmbedding((11, 17), max_length=4, n_neighbors=1, paths="cycles")
    assert cycles(crystal).shape == (8, cycles.size)
