"""The in-memory data set type shared by every loader: records of structure + DOS + split."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crystaldos.spectra.grid import Grid
from crystaldos.spectra.spectrum import Spectrum
from crystaldos.structures.crystal import Crystal

SPLIT_NAMES = ("train", "val", "test")
_SPLIT_ALIASES = {"valid": "val", "validation": "val", "dev": "val"}


def canonical_split(name: str | None) -> str | None:
    """'train' / 'val' / 'test' (``valid`` and ``validation`` map to ``val``)."""
    if name is None:
        return None
    name = str(name).lower()
    return _SPLIT_ALIASES.get(name, name)


@dataclass
class DOSRecord:
    """One material: id, structure (None when the data set has none for it), DOS values on the
    data set's grid (None when held back), and the split it belongs to."""

    id: str
    crystal: Crystal | None
    dos: np.ndarray | None
    split: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class DOSDataset:
    """A list of :class:`DOSRecord` sharing one grid and one normalization.

    ``energy_zero`` says where an electronic set puts E = 0: ``"fermi"`` (the Fermi level:
    JARVIS ``edos_up``, whose gapped spectra end 0.5-0.7 eV below zero) or ``"vbm"`` (the
    valence-band maximum: the xTB set); None for phonons or when unknown. Compare sets only on
    one convention (:meth:`aligned_to`).
    """

    name: str
    grid: Grid
    normalization: str
    records: list[DOSRecord]
    source: str = ""
    energy_zero: str | None = None

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[DOSRecord]:
        return iter(self.records)

    def __getitem__(self, index: int) -> DOSRecord:
        return self.records[index]

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.records]

    def _subset(self, records: list[DOSRecord], suffix: str) -> DOSDataset:
        return DOSDataset(f"{self.name}{suffix}", self.grid, self.normalization, records,
                          self.source, self.energy_zero)

    def aligned_to(self, energy_zero: str) -> DOSDataset:
        """The set with E = 0 moved to ``energy_zero``. From ``"fermi"`` to ``"vbm"``: each
        gapped spectrum is shifted so the top of its valence band (the lower edge of the gap at
        E_F, :func:`crystaldos.physics.electronic.band_gap`) sits at 0, conserving area; to
        ``"midgap"``: so the middle of that gap sits at 0
        (:func:`crystaldos.spectra.align.fermi_to_midgap`). Metals stay as they are (their VBM
        is E_F). Other directions need the Fermi level, which a spectrum does not hold, and are
        refused."""
        from dataclasses import replace

        from crystaldos.errors import DatasetError
        from crystaldos.spectra.align import fermi_to_midgap, fermi_to_vbm

        if energy_zero == self.energy_zero:
            return self
        moves = {("fermi", "vbm"): fermi_to_vbm, ("fermi", "midgap"): fermi_to_midgap}
        move = moves.get((self.energy_zero, energy_zero))
        if move is None:
            raise DatasetError(self.name, f"cannot move E = 0 from {self.energy_zero!r} to "
                                          f"{energy_zero!r}; only from 'fermi' to 'vbm' or "
                                          "'midgap'")
        records = [replace(r, dos=None if r.dos is None else move(r.dos, self.grid))
                   for r in self.records]
        return DOSDataset(f"{self.name}[{energy_zero}]", self.grid, self.normalization, records,
                          self.source, energy_zero)

    def split(self, name: str) -> DOSDataset:
        """Records of one split (``train``, ``val`` / ``valid``, ``test``)."""
        wanted = canonical_split(name)
        return self._subset([r for r in self.records if r.split == wanted], f"[{wanted}]")

    def with_structures(self) -> DOSDataset:
        return self._subset([r for r in self.records if r.crystal is not None], "[structures]")

    def with_spectra(self) -> DOSDataset:
        return self._subset([r for r in self.records if r.dos is not None], "[spectra]")

    def select(self, ids: list[str]) -> DOSDataset:
        """Records with the given ids, in that order (unknown ids raise KeyError)."""
        by_id = {r.id: r for r in self.records}
        return self._subset([by_id[i] for i in ids], "[selected]")

    def spectra(self) -> np.ndarray:
        """(n, count) DOS of every record (all must have one)."""
        missing = [r.id for r in self.records if r.dos is None]
        if missing:
            raise ValueError(f"{len(missing)} records have no spectrum (first: {missing[0]})")
        if not self.records:
            return np.zeros((0, self.grid.count))
        return np.stack([r.dos for r in self.records])

    def spectrum(self, index: int) -> Spectrum:
        rec = self.records[index]
        if rec.dos is None:
            raise ValueError(f"record {rec.id} has no spectrum")
        return Spectrum(rec.dos, self.grid, self.normalization, meta={"id": rec.id})

    def split_ids(self) -> dict[str, list[str]]:
        """The ids of each split present in the records."""
        out: dict[str, list[str]] = {}
        for r in self.records:
            if r.split is not None:
                out.setdefault(r.split, []).append(r.id)
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name, "records": len(self), "grid": self.grid.to_dict(),
            "normalization": self.normalization,
            "with_structure": sum(r.crystal is not None for r in self.records),
            "with_spectrum": sum(r.dos is not None for r in self.records),
            "splits": {k: len(v) for k, v in self.split_ids().items()},
        }
