"""Figures shared by the studies and reports: periodic-table heat maps and spectrum panels.

matplotlib runs with the non-interactive Agg backend; every function writes a PNG and returns its
path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from crystaldos.elements import element_entries


def element_means(element_sets: Iterable[Iterable[str]], values: Iterable[float],
                  ) -> dict[str, tuple[float, int]]:
    """Mean of ``values`` over the materials containing each element: symbol -> (mean, count).
    ``element_sets`` holds the element symbols of each material; NaN values are skipped."""
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for elements, value in zip(element_sets, values, strict=True):
        if not np.isfinite(value):
            continue
        for symbol in set(elements):
            sums[symbol] += float(value)
            counts[symbol] += 1
    return {s: (sums[s] / counts[s], counts[s]) for s in sums}


def _cell_position(entry: Mapping) -> tuple[float, float] | None:
    """(column, row) of an element in the usual 18-column layout with the f block below."""
    z, period, group = entry["z"], entry["period"], entry.get("group")
    if 57 <= z <= 71:
        return 2.0 + (z - 57), 8.5
    if 89 <= z <= 103:
        return 2.0 + (z - 89), 9.5
    if group is None:
        return None
    return float(group - 1), float(period - 1)


def periodic_table_heatmap(values: Mapping[str, float], path: str | Path, *, title: str = "",
                           label: str = "", counts: Mapping[str, int] | None = None,
                           cmap: str = "viridis") -> Path:
    """Colour each element of ``values`` (symbol -> number) on a periodic table; elements
    without a value are grey. ``counts`` (symbol -> materials) is printed under the symbol."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    finite = [v for v in values.values() if np.isfinite(v)]
    if not finite:
        raise ValueError("no finite values to plot")
    norm = Normalize(min(finite), max(finite) if max(finite) > min(finite) else min(finite) + 1)
    colour = plt.get_cmap(cmap)
    fig, ax = plt.subplots(figsize=(13, 7.2))
    for entry in element_entries():
        pos = _cell_position(entry)
        if pos is None or entry["z"] > 103:
            continue
        x, y = pos
        symbol = entry["symbol"]
        value = values.get(symbol)
        has = value is not None and np.isfinite(value)
        face = colour(norm(value)) if has else (0.92, 0.92, 0.92)
        ax.add_patch(Rectangle((x, -y), 0.94, -0.94, facecolor=face, edgecolor="white"))
        dark = has and norm(value) < 0.55
        text_colour = "white" if dark else "black"
        ax.text(x + 0.47, -y - 0.36, symbol, ha="center", va="center", fontsize=10,
                color=text_colour, weight="bold")
        if has:
            ax.text(x + 0.47, -y - 0.66, f"{value:.2g}", ha="center", va="center", fontsize=6.5,
                    color=text_colour)
            if counts and symbol in counts:
                ax.text(x + 0.47, -y - 0.86, f"n={counts[symbol]}", ha="center", va="center",
                        fontsize=5, color=text_colour)
    ax.set_xlim(-0.2, 18.2)
    ax.set_ylim(-10.6, 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=colour)
    bar = fig.colorbar(mappable, ax=ax, orientation="horizontal", fraction=0.04, pad=0.02,
                       shrink=0.5)
    bar.set_label(label)
    if title:
        ax.set_title(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def spectra_panels(energies: np.ndarray, panels: Sequence[tuple[str, Mapping[str, np.ndarray]]],
                   path: str | Path, *, xlabel: str = "E - E_F (eV)",
                   ylabel: str = "DOS") -> Path:
    """One panel per (title, {label: (G,) values}) in a row; the first label is drawn black."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.0), squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels, strict=True):
        for k, (name, y) in enumerate(curves.items()):
            ax.plot(energies, y, lw=1.4 if k == 0 else 1.0, color="black" if k == 0 else None,
                    label=name)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel)
    axes[0][0].set_ylabel(ylabel)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
