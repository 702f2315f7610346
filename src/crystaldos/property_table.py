"""Property tables from spectra files: predictions or data sets in, one row per material out.

The glue between files and :mod:`crystaldos.physics` (which knows nothing of files). Sources:

* a predictions file written by ``crystaldos predict`` (.jsonl, .csv, .parquet), whose rows carry
  the cell formula and volume;
* a data set: ``jarvis-phonon``, ``mp-phonon``, a JSON-lines data set with structures, or an
  ``id_prop.csv`` folder (materials with a spectrum only).

Structures named with ``--structures`` (matched by id) override what the rows carry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crystaldos.errors import CrystalDosError, SourcedError
from crystaldos.physics.cell import CellInfo
from crystaldos.physics.properties import properties_for
from crystaldos.spectra.spectrum import Spectrum


@dataclass
class SpectrumItem:
    """A spectrum with what is known of its cell (None when nothing is)."""

    id: str
    spectrum: Spectrum
    cell: CellInfo | None
    source: str


@dataclass(frozen=True)
class ItemFailure:
    id: str
    source: str
    reason: str

    def __str__(self) -> str:
        named = f" [{self.id}]" if self.id and self.id not in self.source else ""
        return f"{self.source}{named}: {self.reason}"


def _cell_from_values(values: Mapping[str, Any], where: str) -> CellInfo | None:
    formula = values.get("cell_formula")
    if not formula:
        return None
    volume = values.get("volume_A3")
    try:
        volume = float(volume) if volume not in (None, "") else None
        return CellInfo.from_formula(str(formula), volume)
    except (CrystalDosError, ValueError) as exc:
        raise SourcedError(where, str(exc)) from None


def _looks_like_predictions(path: Path) -> bool:
    if path.suffix.lower() in (".csv", ".parquet"):
        return True
    from crystaldos.datasets._io import iter_jsonl

    for _, rec in iter_jsonl(path):
        return not any(k in rec for k in ("lattice", "atoms", "species"))
    raise CrystalDosError(f"{path}: file has no records")


def iter_spectra(source: str, *, split: str | None = None,
                 data_root: str | Path | None = None) -> Iterator[SpectrumItem | ItemFailure]:
    """Spectra of a predictions file or a data set (records without a spectrum are skipped);
    a row that cannot be read comes as an :class:`ItemFailure` and reading goes on."""
    from crystaldos.datasets.named import NAMED_DATASETS, load_dataset

    path = Path(source)
    if source not in NAMED_DATASETS and not path.exists():
        raise CrystalDosError(f"{source}: no such file or folder, and not one of "
                              f"{', '.join(NAMED_DATASETS)}")
    if source not in NAMED_DATASETS and path.is_file() and _looks_like_predictions(path):
        from crystaldos.prediction.readers import read_predictions
        from crystaldos.prediction.schema import Failure

        if split is not None:
            raise CrystalDosError("--split applies to data sets, not to predictions files")
        for item in read_predictions(path):
            if isinstance(item, Failure):
                yield ItemFailure(item.id, item.key, item.reason)
                continue
            try:
                cell = _cell_from_values(item.values, item.key)
            except SourcedError as err:
                yield ItemFailure(item.id, item.key, err.problem)
                continue
            yield SpectrumItem(item.id, item.spectrum, cell, item.key)
        return
    dataset = load_dataset(source, data_root=data_root)
    if split is not None:
        dataset = dataset.split(split)
    for rec in dataset.with_spectra():
        cell = CellInfo.from_crystal(rec.crystal) if rec.crystal is not None else None
        yield SpectrumItem(rec.id, Spectrum(rec.dos, dataset.grid, dataset.normalization), cell,
                           f"{dataset.source or dataset.name}:{rec.id}")


def load_cells(inputs: Sequence[str | Path],
               on_failure: Callable[[str], None] | None = None) -> dict[str, CellInfo]:
    """CellInfo by structure id from structure files, folders or globs (bad ones reported)."""
    from crystaldos.structures.sources import StructureFailure, iter_inputs

    cells: dict[str, CellInfo] = {}
    for item in iter_inputs(inputs):
        if isinstance(item, StructureFailure):
            if on_failure is not None:
                on_failure(str(item))
            continue
        cells[item.id] = CellInfo.from_crystal(item)
    return cells


def property_rows(items: Iterable[SpectrumItem | ItemFailure], kind: str,
                  temperatures: Sequence[float], *, cells: Mapping[str, CellInfo] | None = None,
                  on_failure: Callable[[ItemFailure], None] | None = None,
                  **options: Any) -> Iterator[dict[str, Any]]:
    """``{"id": ..., <property columns>}`` per item; an item that fails (unreadable, or its
    properties cannot be derived) goes to ``on_failure`` (default: raise) and the rest carry
    on. Spectra of another kind than ``kind`` fail one by one."""
    for item in items:
        if isinstance(item, SpectrumItem):
            cell = cells[item.id] if cells is not None and item.id in cells else item.cell
            spectrum = item.spectrum
            try:
                row = properties_for(kind, spectrum.grid, spectrum.values,
                                     spectrum.normalization, cell, temperatures, **options)
            except CrystalDosError as exc:
                item = ItemFailure(item.id, item.source, str(exc))
            else:
                yield {"id": item.id, **row}
                continue
        if on_failure is None:
            raise SourcedError(item.source, item.reason)
        on_failure(item)


@dataclass(frozen=True)
class TableSummary:
    """What :func:`write_property_table` wrote: the spectra's kind, rows, rows without a cell
    (only per-atom and shape properties filled) and items skipped."""

    kind: str
    written: int
    without_cell: int
    skipped: int


def write_property_table(source: str, output: str | Path, temperatures: Sequence[float], *,
                         kind: str | None = None, split: str | None = None,
                         cells: Mapping[str, CellInfo] | None = None,
                         on_failure: Callable[[ItemFailure], None] | None = None,
                         phonon_options: Mapping[str, Any] | None = None,
                         electronic_options: Mapping[str, Any] | None = None) -> TableSummary:
    """Properties of every spectrum of ``source`` (see :func:`iter_spectra`) into the table
    ``output`` (.csv, .jsonl or .parquet), committed whole or not at all. The spectra say their
    kind; ``kind``, when given, must agree. Items that fail go to ``on_failure`` and are
    counted; raises when nothing could be derived."""
    import itertools

    from crystaldos.physics.properties import columns_for
    from crystaldos.prediction.writers import open_writer
    from crystaldos.safe_io import committing

    skipped = [0]

    def failed(item: ItemFailure) -> None:
        skipped[0] += 1
        if on_failure is not None:
            on_failure(item)

    spectra = iter_spectra(source, split=split)
    head: list[SpectrumItem | ItemFailure] = []  # up to the first good spectrum: its kind
    for item in spectra:
        head.append(item)
        if isinstance(item, SpectrumItem):
            break
    if not any(isinstance(i, SpectrumItem) for i in head):
        for item in head:
            failed(item)
        raise CrystalDosError(f"{source}: no readable spectra to derive properties from")
    file_kind = head[-1].spectrum.grid.kind
    if kind is not None and kind != file_kind:
        raise CrystalDosError(f"--kind {kind}, but {source} holds {file_kind} spectra")
    options = dict((phonon_options if file_kind == "phonon" else electronic_options) or {})
    writer = open_writer(output, {"id": "str", **columns_for(file_kind, temperatures)})
    written = without_cell = 0
    with committing(writer, output):
        for row in property_rows(itertools.chain(head, spectra), file_kind, temperatures,
                                 cells=cells, on_failure=failed, **options):
            writer.write(row)
            written += 1
            without_cell += row.get("n_atoms") is None
        if written == 0:
            raise CrystalDosError(f"{source}: no properties derived ({skipped[0]} skipped); "
                                  f"{output} left unchanged")
    return TableSummary(file_kind, written, without_cell, skipped[0])
