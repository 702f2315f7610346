"""Shortlists and a self-contained HTML report of a screening run."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

import numpy as np

from crystaldos.errors import CrystalDosError
from crystaldos.prediction.schema import std_column
from crystaldos.screening.store import iter_rows, read_meta, read_table
from crystaldos.spectra.grid import Grid

_ELEMENT = re.compile(r"[A-Z][a-z]?")


def elements_of(formula: str) -> list[str]:
    """Element symbols of a formula such as ``Na4Cl4``."""
    return sorted(set(_ELEMENT.findall(formula or "")))


def ranked(directory: str | Path, by: str, *, top: int = 20, ascending: bool = False):
    """The ``top`` rows (without the DOS) sorted by column ``by``; rows where it is null left
    out."""
    columns = [c for c in read_meta(directory)["columns"] if c != "dos"]
    if by not in columns:
        raise CrystalDosError(f"{directory}: no column {by!r}; columns: {', '.join(columns)}")
    return rank_table(read_table(directory, "rows", columns), by, top=top, ascending=ascending)


def rank_table(table: Any, by: str, *, top: int = 20, ascending: bool = False) -> Any:
    """The ``top`` rows of a pyarrow table already read, sorted by ``by`` (nulls left out)."""
    import pyarrow.compute as pc

    table = table.filter(pc.is_valid(table[by]))
    order = "ascending" if ascending else "descending"
    return table.sort_by([(by, order)]).slice(0, top)


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _table_html(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return html.escape("" if v is None else str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def default_property(meta: dict[str, Any]) -> str:
    """The column a report ranks by when none is given."""
    columns = meta["columns"]
    for name in ("band_gap_eV", "debye_temperature_K", "cv_J_per_molatomK_300K"):
        if name in columns:
            return name
    numeric = [c for c, t in columns.items()
               if t == "float" and c not in ("volume_A3", "ood_score")]
    if not numeric:
        raise CrystalDosError("the run has no numeric property columns; screen with "
                              "--properties")
    return numeric[0]


def write_report(directory: str | Path, output: str | Path | None = None, *,
                 by: str | None = None, top: int = 10, heatmap_png: str | Path | None = None,
                 ) -> Path:
    """A self-contained HTML report (figures embedded) of a run: property histograms, top and
    bottom tables by ``by``, predicted spectra of the extremes, a periodic-table heat map of
    ``by`` averaged over the compounds containing each element, and the failures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crystaldos.plotting import element_means, periodic_table_heatmap

    directory = Path(directory)
    meta = read_meta(directory)
    by = by or default_property(meta)
    grid = Grid.from_dict(meta["grid"])
    columns = [c for c in meta["columns"] if c != "dos"]
    table = read_table(directory, "rows", columns)
    failures = read_table(directory, "failures").to_pylist()
    n_rows = table.num_rows
    if n_rows == 0:
        raise CrystalDosError(f"{directory}: no rows to report")
    numeric = [c for c, t in meta["columns"].items()
               if t == "float" and c in table.column_names][:12]
    parts = [f"<h1>crystaldos screening report</h1><p>Run <code>{html.escape(str(directory))}"
             f"</code>: model <b>{html.escape(str(meta['model']))}</b>, {n_rows} structures, "
             f"{len(failures)} failures; grid {grid.count} points {grid.start:g}..{grid.stop:g} "
             f"{grid.unit}, normalization {meta['normalization']}.</p>"]

    cols = 4
    rows_n = (len(numeric) + cols - 1) // cols
    if numeric:
        fig, axes = plt.subplots(rows_n, cols, figsize=(3.2 * cols, 2.4 * rows_n),
                                 squeeze=False)
        for ax in axes.flat[len(numeric):]:
            ax.axis("off")
        for ax, name in zip(axes.flat, numeric, strict=False):
            values = np.asarray([v for v in table[name].to_pylist() if v is not None], float)
            ax.hist(values[np.isfinite(values)], bins=40, color="tab:blue")
            ax.set_title(name, fontsize=8)
        fig.tight_layout()
        parts.append(f"<h2>Property distributions</h2><img src='data:image/png;base64,"
                     f"{_png(fig)}'>")

    show = [c for c in ("id", "formula", "n_atoms", by, std_column(by), "ood_score", "file")
            if c in columns]
    if by not in columns:
        raise CrystalDosError(f"{directory}: no column {by!r}; columns: {', '.join(columns)}")
    best = rank_table(table, by, top=top).to_pylist()  # the table read once serves every part
    worst = rank_table(table, by, top=top, ascending=True).to_pylist()
    parts.append(f"<h2>Top {len(best)} by {html.escape(by)}</h2>{_table_html(best, show)}")
    parts.append(f"<h2>Bottom {len(worst)} by {html.escape(by)}</h2>"
                 f"{_table_html(worst, show)}")

    wanted = {r["key"]: label for label, r in (("highest", best[0] if best else None),
                                               ("lowest", worst[0] if worst else None)) if r}
    spectra = {}
    for row in iter_rows(directory, ["key", "id", "dos"]):
        if row["key"] in wanted:
            spectra[wanted[row["key"]]] = (row["id"], np.asarray(row["dos"]))
    if spectra:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        for label, (ident, dos) in spectra.items():
            ax.plot(grid.points, dos, label=f"{label} {by}: {ident}")
        ax.set_xlabel(f"{'E - E_F' if grid.kind == 'electronic' else 'frequency'} ({grid.unit})")
        ax.set_ylabel(f"DOS ({meta['normalization']})")
        ax.legend(fontsize=7)
        fig.tight_layout()
        parts.append(f"<h2>Predicted spectra of the extremes</h2><img src='data:image/png;"
                     f"base64,{_png(fig)}'>")

    formulas = table["formula"].to_pylist()
    values = [np.nan if v is None else float(v) for v in table[by].to_pylist()]
    means = element_means([elements_of(f) for f in formulas], values)
    if means:
        target = Path(heatmap_png) if heatmap_png else directory / f"heatmap_{by}.png"
        periodic_table_heatmap({s: m for s, (m, _) in means.items()}, target,
                               title=f"Mean {by} of the compounds containing each element",
                               label=by, counts={s: n for s, (_, n) in means.items()})
        encoded = base64.b64encode(target.read_bytes()).decode("ascii")
        parts.append(f"<h2>Periodic table: mean {html.escape(by)}</h2>"
                     f"<img style='max-width:100%' src='data:image/png;base64,{encoded}'>")

    parts.append(f"<h2>Failures ({len(failures)})</h2>")
    parts.append(_table_html(failures[:500], ["id", "file", "reason"]) if failures
                 else "<p>none</p>")
    if len(failures) > 500:
        parts.append(f"<p>... and {len(failures) - 500} more (failures-*.parquet)</p>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
             "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;"
             "padding:2px 6px}img{max-width:100%}")
    out = Path(output) if output else directory / "report.html"
    out.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>crystaldos "
                   f"report</title><style>{style}</style></head><body>{''.join(parts)}"
                   "</body></html>\n", encoding="utf-8")
    return out
