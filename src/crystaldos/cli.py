"""The ``crystaldos`` command: a thin face over the Python API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from crystaldos import __version__

app = typer.Typer(name="crystaldos", add_completion=False, no_args_is_help=True,
                  pretty_exceptions_enable=False,
                  help="Predict electronic and phonon densities of states of crystals.")

Inputs = Annotated[list[str], typer.Argument(help="Structure files, directories or globs "
                                                  "(CIF, POSCAR, extxyz, JSON, JSON lines).")]


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crystaldos {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False
          ) -> None:
    """crystaldos: DOS prediction for crystals."""


@app.command()
def featurize(
    inputs: Inputs,
    output: Annotated[Path, typer.Option("--output", "-o", help="Cache directory for graphs.")],
    neighbors: Annotated[int, typer.Option("--neighbors", "-k", min=1,
                                           help="k of the k-nearest-shell graph.")] = 12,
    cutoff: Annotated[float, typer.Option(help="Radius (radius mode) or cap (knn mode), Å.")]
    = 8.0,
    mode: Annotated[str, typer.Option(help="Graph mode: knn or radius.")] = "knn",
    atom_features: Annotated[str, typer.Option(help="cgcnn, attr5, attr8 or atomic_number.")]
    = "cgcnn",
    line_graph: Annotated[bool, typer.Option(help="Build the bond-angle line graph.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Build and cache crystal + line graphs; bad structures are reported and skipped."""
    from tqdm import tqdm

    from crystaldos.featurize import featurize as run
    from crystaldos.graphs.crystal_graph import GraphSettings

    try:
        settings = GraphSettings(mode=mode, neighbors=neighbors, cutoff=cutoff,
                                 atom_features=atom_features, line_graph=line_graph)
    except ValueError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    bar = tqdm(desc="featurize", unit="struct", disable=quiet, file=sys.stderr)

    def progress(label: str, failure: object) -> None:
        if failure is not None:
            bar.write(f"skipped {failure}", file=sys.stderr)
        bar.update(1)

    report = run(inputs, output, settings, on_item=progress)
    bar.close()
    typer.echo(f"featurized {report.done} structures ({report.built} built, {report.cached} "
               f"from cache) in {report.seconds:.2f} s: {report.rate:.1f} structures/s; "
               f"{len(report.failures)} skipped")
    typer.echo(f"index: {report.index_path}")
    if report.failures:
        raise typer.Exit(1)


@app.command()
def validate(inputs: Inputs) -> None:
    """Read and check structures; print one line per problem, exit 1 if any."""
    from crystaldos.structures.sources import StructureFailure, iter_inputs

    good = bad = 0
    for item in iter_inputs(inputs):
        if isinstance(item, StructureFailure):
            bad += 1
            _err(str(item))
        else:
            good += 1
    typer.echo(f"{good} valid, {bad} invalid")
    if bad or not good:
        raise typer.Exit(1)


@app.command()
def grids() -> None:
    """List the preset grids of the reference works."""
    from crystaldos.spectra.grid import PRESETS

    for name, g in PRESETS.items():
        typer.echo(f"{name:8s} {g.kind:10s} {g.count:4d} points  {g.start:g} .. {g.stop:g} "
                   f"{g.unit}  step {g.step:g}")


def main() -> None:
    """Console entry point: any crystaldos error becomes one line on stderr and exit code 2."""
    from crystaldos.errors import CrystalDosError

    try:
        app()
    except CrystalDosError as exc:
        _err(f"error: {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
