"""The ``crystaldos`` command: a thin face over the Python API."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from crystaldos import __version__
from crystaldos.errors import CrystalDosError

app = typer.Typer(name="crystaldos", add_completion=False, no_args_is_help=True,
                  pretty_exceptions_enable=False,
                  help="Predict electronic and phonon densities of states of crystals.")

Inputs = Annotated[list[str], typer.Argument(help="Structure files, directories or globs "
                                                  "(CIF, POSCAR, extxyz, JSON, JSON lines).")]
RunDirectory = Annotated[Path, typer.Argument(help="Run directory of `crystaldos screen`.")]
Ascending = Annotated[bool, typer.Option("--ascending", help="Smallest first.")]
#: rows whose note `crystaldos predict` prints on stderr one by one; the rest are counted
NOTES_NAMED = 10


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


@app.command()
def train(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML training config; "
                                                "flags override it.")] = None,
    dataset: Annotated[str | None, typer.Option(help="jarvis-phonon, mp-phonon, a .jsonl file "
                                                "or an id_prop.csv folder.")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Model directory.")] = None,
    preset: Annotated[str | None, typer.Option(help="fast, tiny, alignn-phdos-paper, "
                                               "alignn-edos-paper.")] = None,
    epochs: Annotated[int | None, typer.Option(min=1)] = None,
    loss: Annotated[str | None, typer.Option(help="mse, mae, kl or wasserstein.")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (AdamW).")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    scheduler: Annotated[str | None, typer.Option(help="onecycle, cosine or none.")] = None,
    patience: Annotated[int | None, typer.Option(min=1, help="Early-stopping patience "
                                                 "(epochs).")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    latent: Annotated[int | None, typer.Option(help="Train AE-ALIGNN with this latent size "
                                               "(8, 12, 16 or 20).")] = None,
    max_train: Annotated[int | None, typer.Option(help="Use only this many training "
                                                  "materials (smoke runs).")] = None,
    devices: Annotated[str | None, typer.Option(help="Lightning devices: auto, 1, 4, ...")]
    = None,
    accelerator: Annotated[str | None, typer.Option(help="auto, cpu, gpu.")] = None,
    strategy: Annotated[str | None, typer.Option(help="Lightning strategy, e.g. ddp.")] = None,
    num_threads: Annotated[int | None, typer.Option(help="torch CPU threads.")] = None,
    resume: Annotated[str | None, typer.Option(help="Resume from a Lightning checkpoint.")]
    = None,
    init_from: Annotated[str | None, typer.Option(help="Start from this model's weights "
                                                  "(name or directory): the encoder, and the "
                                                  "output head when it predicts on the same "
                                                  "grid.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train a spectral model; writes weights, model card, logs and checkpoints to OUTPUT."""
    from crystaldos.training.config import AutoencoderConfig, TrainConfig
    from crystaldos.training.trainer import train as run

    flags = {"dataset": dataset, "output": output, "preset": preset, "epochs": epochs,
             "loss": loss, "lr": lr, "batch_size": batch_size, "scheduler": scheduler,
             "patience": patience, "seed": seed, "max_train": max_train,
             "accelerator": accelerator, "strategy": strategy, "num_threads": num_threads,
             "resume": resume, "init_from": init_from}
    if devices is not None:
        flags["devices"] = int(devices) if devices.isdigit() else devices
    if config is not None:
        cfg = TrainConfig.from_yaml(config, **flags)
    else:
        cfg = TrainConfig.from_dict({k: v for k, v in flags.items() if v is not None}, "flags")
    if latent is not None:
        cfg.autoencoder = cfg.autoencoder or AutoencoderConfig()
        cfg.autoencoder.latent = latent
    cfg.progress = not quiet
    cfg.command = "crystaldos " + " ".join(sys.argv[1:]) if sys.argv[1:] else None
    out = run(cfg)
    if (out / "card.json").exists():  # absent on the non-zero ranks of a DDP run
        from crystaldos.models.saving import read_card

        val = read_card(out)["validation"]
        typer.echo(f"model written to {out}")
        for dataset, metrics in (val["by_dataset"].items() if val.get("joint")
                                 else [("", val)]):
            for name in ("model", "mean_spectrum", "composition_knn"):
                m = metrics[name]
                typer.echo(f"  {dataset + ' ' if dataset else ''}val {name:16s} MAE "
                           f"{m['mae']:.4f}  R2 {m['r2_mean']:.3f}  MSE {m['mse']:.5f}  "
                           f"W1 {m['wasserstein']:.2f}")


def _temperatures(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise typer.BadParameter(f"{text!r}: give temperatures in K separated by commas, "
                                 "e.g. 100,300") from None
    if not values or any(not (t >= 0) for t in values):
        raise typer.BadParameter(f"{text!r}: temperatures must be >= 0 K")
    return values


Temperatures = Annotated[str, typer.Option(help="Temperatures in K, comma-separated.")]


Device = Annotated[str, typer.Option(help="Where the model runs: cpu, cuda or cuda:N.")]
Workers = Annotated[int, typer.Option(min=1, help="Featurization processes.")]
Backend = Annotated[str, typer.Option(help="Featurization backend: local, dask or ray.")]


@app.command()
def predict(
    inputs: Inputs,
    model: Annotated[str, typer.Option("--model", "-m", help="Bundled model name (see "
                                       "`crystaldos models`) or a model directory.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file: .jsonl, .csv or "
                                         ".parquet.")],
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
    normalization: Annotated[str | None, typer.Option(
        help="Rescale outputs to max, sum or area (default: the model's own).")] = None,
    properties: Annotated[bool, typer.Option(
        "--properties", help="Add the properties derived from each DOS (see `crystaldos "
        "properties`).")] = False,
    temperatures: Temperatures = "300",
    grid: Annotated[str | None, typer.Option(
        help="Write the spectra on this preset grid (see `crystaldos grids`), moved there "
        "conserving area; properties still come from the model's own grid.")] = None,
    failures: Annotated[Path | None, typer.Option(
        help="Also write the skipped structures (key, id, file, reason) to this table.")]
    = None,
    device: Device = "cpu",
    workers: Workers = 1,
    backend: Backend = "local",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Predict the DOS of every structure into one file; bad structures are named on stderr
    and skipped. Exit status: 0 all written, 1 some skipped, 2 nothing done or bad usage."""
    from tqdm import tqdm

    from crystaldos.prediction.engine import predict_to_file
    from crystaldos.prediction.pipeline import PredictionPipeline
    from crystaldos.pretrained import load_pretrained
    from crystaldos.spectra.grid import preset as grid_preset

    temps = _temperatures(temperatures)
    bundle = load_pretrained(model, device=device)
    pipeline = PredictionPipeline(  # checks every setting before any output is touched
        bundle, normalization=normalization, grid=None if grid is None else grid_preset(grid),
        properties=properties, temperatures=temps, device=device, batch_size=batch_size,
        backend=backend, workers=workers)
    bar = tqdm(desc=f"predict ({bundle.name})", unit="struct", disable=quiet, file=sys.stderr)
    notes: Counter[str] = Counter()

    def row_done(row: Any) -> None:
        note = row.values.get("note")
        if note:  # every row keeps its note; stderr names the first few, then counts them
            notes[note] += 1
            if notes.total() <= NOTES_NAMED:
                bar.write(f"{row.key}: {note}", file=sys.stderr)
        bar.update(1)

    with contextlib.closing(bar):
        done, failed = predict_to_file(
            pipeline, inputs, output, failures=failures, on_row=row_done,
            on_failure=lambda item: bar.write(f"skipped {item}", file=sys.stderr))
    if notes.total() > NOTES_NAMED:
        _err(f"{notes.total()} rows carry a note (the note column of {output}); the most "
             "common:")
        for note, count in notes.most_common(3):
            _err(f"  {count} x {note}")
    typer.echo(f"predicted {done} structures with {bundle.name} -> {output}; "
               f"{failed} skipped")
    if failed:
        raise typer.Exit(1)


@app.command(name="properties")
def properties_command(
    source: Annotated[str, typer.Argument(help="Predictions (.jsonl/.csv/.parquet from "
                                          "`crystaldos predict`) or a data set: jarvis-phonon, "
                                          "mp-phonon, a .jsonl data set or an id_prop folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Table: .csv, .jsonl or "
                                         ".parquet.")],
    kind: Annotated[str | None, typer.Option(
        help="phonon or electronic (default: what the spectra's grid says).")] = None,
    temperatures: Temperatures = "300",
    structures: Annotated[list[str] | None, typer.Option(
        "--structures", "-s", help="Structure files/folders/globs matched by id (repeatable); "
        "they give formula, atoms, volume and masses.")] = None,
    split: Annotated[str | None, typer.Option(help="Only this split of a data set.")] = None,
    stability_threshold: Annotated[float, typer.Option(
        help="Unstable above this share of modes at negative frequency.")] = 0.10,
    gap_tolerance: Annotated[float, typer.Option(
        help="Empty below this share of the spectrum's maximum (band gaps).")] = 0.01,
    fermi_level: Annotated[float, typer.Option(help="Fermi level on the grid, eV.")] = 0.0,
    edge_window: Annotated[float, typer.Option(
        help="A band gap may start this far (eV) from the Fermi level (smeared band edges).")]
    = 0.5,
) -> None:
    """Derive properties from each DOS: Cv, S, U, F, Debye temperature, isotope scattering and
    stability (phonon), or band gap, class, DOS at E_F, Sommerfeld gamma (electronic). A row
    that cannot be read or derived is named and skipped. Exit status: 0 all written, 1 some
    skipped, 2 nothing done or bad usage."""
    from crystaldos.property_table import load_cells, write_property_table

    if kind not in (None, "phonon", "electronic"):
        raise typer.BadParameter(f"--kind must be phonon or electronic, not {kind!r}")
    temps = _temperatures(temperatures)
    cells = None
    if structures:
        cells = load_cells(structures, on_failure=lambda m: _err(f"skipped structure {m}"))
    summary = write_property_table(
        source, output, temps, kind=kind, split=split, cells=cells,
        on_failure=lambda failure: _err(f"skipped {failure}"),
        phonon_options={"stability_threshold": stability_threshold},
        electronic_options={"rel_tol": gap_tolerance, "fermi_level": fermi_level,
                            "edge_window": edge_window})
    typer.echo(f"{summary.written} materials -> {output}; {summary.skipped} skipped")
    if summary.without_cell:
        _err(f"note: {summary.without_cell} materials had no structure, so only their per-atom "
             "and shape properties are filled")
    if summary.skipped:
        raise typer.Exit(1)


@app.command()
def screen(
    inputs: Inputs,
    model: Annotated[str, typer.Option("--model", "-m", help="Bundled model name or a model "
                                       "directory.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory (Parquet "
                                         "shards); rerun the same command to resume.")],
    properties: Annotated[bool, typer.Option(
        "--properties/--no-properties", help="Derive the properties of each DOS.")] = True,
    temperatures: Temperatures = "300",
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
    workers: Workers = 1,
    backend: Backend = "local",
    shard_size: Annotated[int, typer.Option(min=1, help="Rows per Parquet shard.")] = 4096,
    device: Device = "cpu",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Screen many structures: stream them through the same pipeline as `predict` into
    Parquet shards that survive interruption; bad structures go to the failures table.
    Exit status: 0 all written, 1 some skipped, 2 bad usage."""
    from tqdm import tqdm

    from crystaldos.pretrained import load_pretrained
    from crystaldos.screening.engine import screen as run_screen
    from crystaldos.structures.sources import count_structures

    temps = _temperatures(temperatures)
    bundle = load_pretrained(model, device=device)
    total = count_structures(inputs)
    bar = tqdm(desc=f"screen ({bundle.name})", unit="struct", total=total, disable=quiet,
               file=sys.stderr, smoothing=0.05)
    seen = [0]

    def progress(written: int, failed: int) -> None:
        bar.update(written + failed - seen[0])
        seen[0] = written + failed

    try:
        summary = run_screen(inputs, bundle, output, properties=properties, temperatures=temps,
                             batch_size=batch_size, workers=workers, backend=backend,
                             shard_size=shard_size, device=device, progress=progress,
                             on_failure=lambda f: bar.write(f"skipped {f}", file=sys.stderr))
    finally:
        bar.close()
    typer.echo(f"{summary.written} rows, {summary.failed} failures written to {output} "
               f"({summary.skipped} already done) in {summary.seconds:.1f} s, "
               f"{summary.rate:.3g} structures/s")
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def rank(
    directory: RunDirectory,
    by: Annotated[str, typer.Option("--by", help="Column to sort by.")],
    top: Annotated[int, typer.Option(min=1, help="How many rows.")] = 20,
    ascending: Ascending = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the "
                                                "shortlist: .csv, .jsonl or .parquet.")] = None,
) -> None:
    """Shortlist the screened structures by one property column."""
    from crystaldos.prediction.writers import write_arrow_table
    from crystaldos.screening.report import ranked

    table = ranked(directory, by, top=top, ascending=ascending)
    shown = [c for c in ("id", "formula", by) if c in table.column_names]
    typer.echo("  ".join(f"{c:>16s}" for c in ["rank", *shown]))
    for k, row in enumerate(table.select(shown).to_pylist(), start=1):
        cells = [f"{k:>16d}"] + [f"{v:>16.4g}" if isinstance(v, float) else f"{v!s:>16s}"
                                 for v in row.values()]
        typer.echo("  ".join(cells))
    if output is not None:
        write_arrow_table(table, output)
        typer.echo(f"{table.num_rows} rows -> {output}")


@app.command()
def report(
    directory: RunDirectory,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="HTML file (default: "
                                                "DIRECTORY/report.html).")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Property for the tables and the heat map (default: band gap or Debye "
        "temperature).")] = None,
    top: Annotated[int, typer.Option(min=1)] = 10,
) -> None:
    """Write a self-contained HTML report of a screening run."""
    from crystaldos.screening.report import write_report

    path = write_report(directory, output, by=by, top=top)
    typer.echo(f"report -> {path}")


@app.command()
def verify(
    directory: RunDirectory,
    by: Annotated[str, typer.Option("--by", help="Column that ranks the shortlist.")],
    top: Annotated[int, typer.Option(min=1, help="How many structures to verify.")] = 5,
    ascending: Ascending = False,
) -> None:
    """Compute reference spectra for a shortlist (phonons: phonopy + CHGNet; electrons:
    GFN2-xTB) and put them beside the predictions: DIRECTORY/verify.parquet and verify.png."""

    from crystaldos.screening.verify import verify_run

    done = verify_run(directory, by, top=top, ascending=ascending,
                      on_failure=lambda key, why: _err(f"no reference for {key}: {why}"))
    typer.echo(done.note)
    for row in done.rows:
        typer.echo(f"{row['id']:>20s}  {row.get('formula', '')!s:>14s}  {by} "
                   f"{row.get(by)!s:>10.8s}  MAE(predicted, reference) {row['mae']:.4f}")
    typer.echo(f"{len(done.rows)} verified -> {done.table}, {done.figure.name}")


def _rows_per_structure(inputs: list[str], output: Path | None, columns: dict[str, str],
                        row: Any, line: Any) -> tuple[int, int]:
    """Run ``row(crystal) -> dict`` on every input structure, echo ``line(row)`` and write the
    rows to ``output`` (one table writer, aborted when nothing is written); bad files are named
    and skipped. Returns (done, skipped)."""
    from crystaldos.prediction.writers import open_writer
    from crystaldos.structures.sources import StructureFailure, iter_inputs

    writer = None if output is None else open_writer(output, columns)
    done = skipped = 0
    try:
        for item in iter_inputs(inputs):
            if isinstance(item, StructureFailure):
                skipped += 1
                _err(f"skipped {item}")
                continue
            try:
                values = row(item)
            except CrystalDosError as err:
                skipped += 1
                _err(f"skipped {item.source}: {getattr(err, 'problem', err)}")
                continue
            done += 1
            if writer is not None:
                writer.write(values)
            typer.echo(line(values))
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None and done:
        writer.close()
    elif writer is not None:
        writer.abort()
    return done, skipped


OutputTable = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Also write the rows to this table (.csv, .jsonl or .parquet).")]


@app.command()
def stability(inputs: Inputs, output: OutputTable = None) -> None:
    """Probability that each crystal is dynamically unstable (more than 10 % imaginary modes),
    from what universal potentials say about it at its given geometry (the bundled
    stability-uip classifier, its probability calibrated on train out of fold; needs the
    reference extra). Exit status 1 if any is skipped."""
    from crystaldos.prediction.stability import ROW_COLUMNS, StabilityClassifier

    classifier = StabilityClassifier.load()
    done, skipped = _rows_per_structure(
        inputs, output, ROW_COLUMNS, classifier.row,
        lambda r: (f"{r['id']:>24s}  {r['formula']:>14s}  P(unstable) "
                   f"{r['unstable_probability']:.3f}  "
                   f"{'unstable' if r['unstable'] else 'stable'}"))
    typer.echo(f"{done} classified at threshold {classifier.threshold:.3f} "
               f"({classifier.card.get('validation_note', '')}); {skipped} skipped"
               + (f" -> {output}" if output is not None and done else ""))
    if skipped:
        raise typer.Exit(1)


@app.command()
def gap(inputs: Inputs, output: OutputTable = None,
        trees_name: Annotated[str, typer.Option(
            "--trees", help="Bundled tree set or folder: gap-trees-uip (composition, cell "
            "and CHGNet's summary of the crystal; needs the reference extra; the trees of "
            "pbe-edos) or gap-trees (composition and cell alone, a tenth of the time).")]
        = "gap-trees-uip") -> None:
    """Metal or gapped, and the PBE band gap (eV), of each crystal from boosted trees (no
    graph): `crystaldos models` lists the tree sets with their accuracy. The default trees
    give pbe-edos's metal_probability and band_gap_direct_eV. Exit status 1 if any is
    skipped."""
    from crystaldos.prediction.band_gap import GapTrees, interval_columns

    trees = GapTrees.load(trees_name)
    low, high = interval_columns(0.95)

    def interval(r: dict) -> str:
        return f" (95 % {r[low]:.2f}-{r[high]:.2f})" if low in r else ""

    done, skipped = _rows_per_structure(
        inputs, output, trees.row_columns(), trees.row,
        lambda r: (f"{r['id']:>24s}  {r['formula']:>14s}  P(metal) "
                   f"{r['metal_probability']:.3f}  "
                   + ("metal" if r["metal"] else f"gap {r['band_gap_eV']:.2f} eV")
                   + interval(r) + (f"  ({r['note']})" if r["note"] else "")))
    typer.echo(f"{done} predicted ({trees.card.get('validation_note', '')}); {skipped} skipped"
               + (f" -> {output}" if output is not None and done else ""))
    if skipped:
        raise typer.Exit(1)


@app.command()
def ensemble(
    members: Annotated[list[Path], typer.Argument(help="Trained model directories (same "
                                                  "recipe, different --seed).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Ensemble model directory.")],
    name: Annotated[str, typer.Option(help="The ensemble's name.")],
) -> None:
    """Join trained models into one deep ensemble: predictions then carry a per-bin spread
    (dos_std) and <property>_std columns. Calibrate its spreads with
    benchmarks/uncertainty_calibration.py --write-card."""
    from crystaldos.models.ensemble import assemble_ensemble

    if len(members) < 2:
        raise typer.BadParameter("an ensemble needs at least 2 member directories")
    path = assemble_ensemble(members, output, name=name)
    typer.echo(f"{len(members)}-member ensemble {name} -> {path}")


@app.command()
def models() -> None:
    """List the bundled pretrained models with their grids and validation metrics."""
    from crystaldos.models.saving import read_card
    from crystaldos.pretrained import bundled_models

    seen = set()
    for name, directory in bundled_models().items():
        if directory in seen:
            continue
        seen.add(directory)
        card = read_card(directory)
        g = card["grid"]
        val = card.get("validation", {})
        m = val.get("model", {})
        aliases = ", ".join(card.get("aliases", [])) or "-"
        typer.echo(f"{name}  ({card['model_class']}, aliases: {aliases})")
        typer.echo(f"  grid {g['count']} points {g['start']:g} .. "
                   f"{g['start'] + g['step'] * (g['count'] - 1):g} {g['unit']}, "
                   f"normalization {card['normalization']}")
        nan = float("nan")
        per_set = (val.get("by_dataset", {}).items() if val.get("joint") else
                   [("", val)] if m else [])
        for dataset, metrics in per_set:
            m, base = metrics["model"], metrics.get("composition_knn", {})
            mean = metrics.get("mean_spectrum", {})
            w1 = (f", W1 {m['wasserstein']:.3g} (composition kNN "
                  f"{base.get('wasserstein', nan):.3g}) {g['unit']}"
                  if "wasserstein" in m else "")
            typer.echo(f"  {dataset + ' ' if dataset else ''}val MAE {m['mae']:.4f} (mean "
                       f"spectrum {mean.get('mae', nan):.4f}, composition kNN "
                       f"{base.get('mae', nan):.4f}), R2 {m['r2_mean']:.3f}{w1}, "
                       f"{m['n_spectra']} spectra")
        heads = val.get("heads")
        if heads:
            typer.echo(f"  val gap and metal columns: gap MAE {heads['gap_mae_eV']:.2f} eV, "
                       f"metal/gapped accuracy {heads['metal_accuracy']:.3f} (composition rule "
                       f"{heads['composition_rule_accuracy']:.3f}"
                       + (f", charge rule {heads['charge_rule_accuracy']:.3f}"
                          if "charge_rule_accuracy" in heads else "")
                       + f"), {heads['n']} materials")
        target = card.get("target", {})
        zero = {"fermi": ", E = 0 at the Fermi level", "vbm": ", E = 0 at the valence-band top"}
        typer.echo(f"  trained on {target.get('dataset', '?')}"
                   f"{zero.get(target.get('energy_zero'), '')}")
        speed = card.get("speed")
        if speed:
            typer.echo(f"  speed {speed['structures_per_s']:g} structures/s end to end with "
                       f"properties ({speed['machine']})")
        if card["model_class"] == "DeepEnsemble":
            unc = card.get("uncertainty", {})
            typer.echo(f"  uncertainty: {card['init_args']['n_members']}-member ensemble; "
                       + (f"spreads calibrated on {unc['fitted_on']}" if unc else
                          "raw member spread (not calibrated)"))
        if card.get("caveat"):
            typer.echo(f"  caveat: {card['caveat']}")
    if not seen:
        typer.echo("no bundled models found")
    from crystaldos.prediction.stability import CARD_NAME, CLASSIFIER_DIR, StabilityClassifier

    if (CLASSIFIER_DIR / CARD_NAME).exists():
        classifier = StabilityClassifier.load()
        typer.echo(f"stability-uip  (boosted trees on {' + '.join(classifier.potentials)} "
                   "summaries; `crystaldos stability`, needs the reference extra)")
        scale = " (calibrated probability)" if "calibration" in classifier.card else ""
        typer.echo(f"  {classifier.card.get('validation_note', '')}, threshold "
                   f"{classifier.threshold:.3f}{scale} chosen on train")
        _echo_tree_speed(classifier.card)
        if classifier.card.get("caveat"):
            typer.echo(f"  caveat: {classifier.card['caveat']}")
    from crystaldos.prediction import band_gap

    for name in band_gap.bundled_gap_trees():
        trees = band_gap.GapTrees.load(name)
        reads = (f"composition, cell and {trees.uip}'s summary of the crystal; needs the "
                 "reference extra" if trees.uip else "composition and cell descriptors")
        typer.echo(f"{name}  (boosted trees on {reads}; `crystaldos gap --trees {name}`, and "
                   "the metal/gap columns of the models whose card names them)")
        typer.echo(f"  {trees.card.get('validation_note', '')}")
        _echo_tree_speed(trees.card)
        if trees.card.get("caveat"):
            typer.echo(f"  caveat: {trees.card['caveat']}")


def _echo_tree_speed(card: dict) -> None:
    """The measured speed of a tree model's rows (benchmarks/model_speed.py), if recorded."""
    speed = card.get("speed")
    if speed:
        typer.echo(f"  speed {speed['structures_per_s']:g} structures/s, structure to row "
                   f"({speed['machine']})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (default: this computer "
                                      "only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    model: Annotated[list[str] | None, typer.Option(
        "--model", "-m", help="Model to serve (repeatable; default: every bundled model).")]
    = None,
    run_dir: Annotated[Path, typer.Option(help="Where uploads, results and batch jobs are "
                                          "kept (they survive a restart).")]
    = Path("crystaldos-runs"),
    device: Device = "cpu",
    max_upload_mb: Annotated[float, typer.Option(min=0.001, help="Largest upload, MB.")]
    = 20.0,
) -> None:
    """Run the local web page: drop a crystal, see its phonon and electronic DOS and the
    properties that follow; run many structures as background jobs. Needs
    `pip install 'crystaldos[web]'`."""
    try:
        from crystaldos.web.app import serve as run_server
    except ImportError as err:
        raise CrystalDosError(f"the web page needs the web extra: pip install "
                              f"'crystaldos[web]' ({err})") from None
    typer.echo(f"crystaldos serving on http://{host}:{port}/ (runs in {run_dir}); Ctrl-C stops")
    run_server(run_dir, model or None, host=host, port=port, device=device,
               max_upload_mb=max_upload_mb)


def main() -> None:
    """Console entry point: one line on stderr for every error, never a traceback.

    Exit status: 0 all written, 1 some inputs skipped, 2 bad usage or nothing done (any
    crystaldos error), 130 after Ctrl-C (with a line saying what was kept).
    """
    try:
        code = app(standalone_mode=False)  # typer turns Ctrl-C into exit code 130
    except KeyboardInterrupt:
        code = 130
    except CrystalDosError as exc:
        _err(f"error: {exc}")
        sys.exit(2)
    except OSError as exc:  # disk full, read-only, permission denied: one line, not a traceback
        where = exc.filename or "output"
        _err(f"error: {where}: {exc.strerror or exc}")
        sys.exit(2)
    except Exception as exc:  # the command-line parser's own errors (usage, bad parameter)
        if not (hasattr(exc, "show") and hasattr(exc, "exit_code")):
            raise
        exc.show()
        sys.exit(exc.exit_code)
    if code == 130:
        _err("interrupted: finished outputs are kept, unfinished ones were not written")
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
