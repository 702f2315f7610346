"""The routes of ``crystaldos serve`` (FastAPI).

FastAPI because it is well kept, small, typed, streams uploads to disk (no request is held in
memory whole), answers JSON natively and ships a test client; uvicorn serves it. The page is one
static HTML file with plain JavaScript; its plots are plotly.js, served from the ``plotly``
Python package, so nothing is fetched from the internet.

Everything a request writes goes under the run directory: ``single/<id>/`` for one structure
(the upload and its result files) and ``jobs/<id>/`` for batch jobs (see
:mod:`crystaldos.web.jobs`). Errors come back as ``{"error": "<one line>"}`` with status 400
(the same messages as the command line) and never stop the server.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from crystaldos.errors import CrystalDosError
from crystaldos.web.analysis import ModelRegistry, predict_one, save_result, temperature_range
from crystaldos.web.jobs import JobManager, check_id
from crystaldos.web.uploads import (
    UploadError,
    check_structure_name,
    extract_zip,
    paste_suffix,
    safe_name,
    write_limited,
)

STATIC = Path(__file__).resolve().parent / "static"
RESULT_FILES = {"spectra.csv": "text/csv", "properties.csv": "text/csv",
                "result.json": "application/json"}
#: built-in examples: name -> (ASE bulk arguments); written as CIF and read like an upload.
EXAMPLES = {"Si (diamond)": ("Si", "diamond", 5.43), "NaCl (rock salt)": ("NaCl", "rocksalt",
            5.64), "MgO (rock salt)": ("MgO", "rocksalt", 4.21), "Cu (fcc)": ("Cu", "fcc", 3.61),
            "GaAs (zinc blende)": ("GaAs", "zincblende", 5.65)}


def _plotly_js() -> Path:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise CrystalDosError(f"{path}: plotly.min.js missing from the plotly package")
    return path


def _write_example(name: str, folder: Path) -> Path:
    from ase.build import bulk

    if name not in EXAMPLES:
        raise UploadError(f"{name!r}: no such example")
    formula, structure, a = EXAMPLES[name]
    path = folder / f"{formula}.cif"
    bulk(formula, structure, a=a).write(path)
    return path


def _read_one(path: Path, folder: Path) -> Any:
    """The single structure in ``path``; errors name the file as the user called it."""
    from crystaldos.structures.sources import StructureFailure, structure_stream

    items = []
    for item in structure_stream([path]):
        items.append(item)
        if len(items) > 1:
            break
    shown = str(folder) + "/"
    if not items:
        raise UploadError(f"{path.name}: no structure in the file")
    if isinstance(items[0], StructureFailure):
        raise UploadError(str(items[0]).replace(shown, ""))
    if len(items) > 1:
        raise UploadError(f"{path.name}: holds more than one structure; use 'Many structures'")
    return items[0]


def create_app(run_dir: str | Path, models: list[str] | None = None, *, device: str = "cpu",
               max_upload_mb: float = 20.0) -> Any:
    """The web application; results and uploads live under ``run_dir``."""
    from crystaldos.physics.constants import MEV_TO_CM1, THZ_TO_CM1

    root = Path(run_dir).resolve()
    (root / "single").mkdir(parents=True, exist_ok=True)
    registry = ModelRegistry(models, device=device)
    jobs = JobManager(root, registry)
    limit = int(max_upload_mb * 1e6)
    plotly_js = _plotly_js()
    app = FastAPI(title="crystaldos", docs_url=None, redoc_url=None)
    app.state.registry, app.state.jobs, app.state.root = registry, jobs, root

    @app.exception_handler(CrystalDosError)
    async def _known(request: Request, exc: CrystalDosError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(Exception)
    async def _unknown(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error ({type(exc).__name__}: {exc})"},
                            status_code=500)

    def _save(upload: UploadFile, folder: Path) -> Path:
        name = safe_name(upload.filename or "")
        return write_limited(iter(lambda: upload.file.read(1 << 20), b""), folder / name,
                             limit, name)

    @app.get("/", response_class=HTMLResponse)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/plotly.min.js")
    def plotly() -> FileResponse:
        return FileResponse(plotly_js, media_type="text/javascript")

    @app.get("/static/{name}")
    def static(name: str) -> FileResponse:
        if name not in ("app.js", "style.css"):
            raise CrystalDosError(f"{name}: no such file")
        return FileResponse(STATIC / name, media_type="text/javascript" if name.endswith(
            ".js") else "text/css")

    @app.get("/api/models")
    def list_models() -> dict[str, Any]:
        return {"models": [{"name": e.name, "kind": e.kind, "caveat": e.card.get("caveat", ""),
                            "grid": e.card["grid"]} for e in registry.entries.values()],
                "examples": list(EXAMPLES), "max_upload_mb": max_upload_mb,
                "units": {"cm^-1": 1.0, "THz": 1.0 / THZ_TO_CM1, "meV": 1.0 / MEV_TO_CM1}}

    @app.post("/api/structure")
    def structure(file: Annotated[UploadFile | None, File()] = None,
                  text: Annotated[str, Form()] = "", format: Annotated[str, Form()] = "auto",
                  example: Annotated[str, Form()] = "",
                  t_min: Annotated[float, Form()] = 10.0,
                  t_max: Annotated[float, Form()] = 1000.0) -> dict[str, Any]:
        temps = temperature_range(t_min, t_max)
        result_id = uuid.uuid4().hex
        folder = root / "single" / result_id
        folder.mkdir()
        if file is not None and file.filename:
            path = _save(file, folder)
            check_structure_name(path.name)
        elif text.strip():
            if len(text.encode()) > limit:
                raise UploadError(f"pasted text: larger than the {max_upload_mb:g} MB limit")
            path = folder / f"pasted{paste_suffix(text, format)}"
            path.write_text(text)
        elif example:
            path = _write_example(example, folder)
        else:
            raise UploadError("choose a file, paste a structure or pick an example")
        crystal = _read_one(path, folder)
        result = {"id": result_id, "file": path.name, **predict_one(crystal, registry, temps)}
        save_result(result, folder)
        return result

    @app.get("/api/results/{result_id}/{name}")
    def result_file(result_id: str, name: str) -> FileResponse:
        check_id(result_id, "result")
        path = root / "single" / result_id / name
        if name not in RESULT_FILES or not path.is_file():
            raise CrystalDosError(f"{result_id}/{name}: no such result file")
        return FileResponse(path, media_type=RESULT_FILES[name], filename=name)

    @app.post("/api/jobs")
    def create_job(file: Annotated[UploadFile, File()], model: Annotated[str, Form()],
                   by: Annotated[str, Form()] = "") -> dict[str, Any]:
        job_id, inputs = jobs.new_folder()
        name = safe_name(file.filename or "")
        if name.lower().endswith(".zip"):
            archive = _save(file, inputs.parent)
            extract_zip(archive, inputs, limit_bytes=limit)
            archive.unlink()
        else:
            check_structure_name(name)
            _save(file, inputs)
        return vars(jobs.submit(job_id, model, by, name))

    @app.get("/api/jobs")
    def list_jobs() -> list[dict[str, Any]]:
        return [vars(j) for j in jobs.list()]

    @app.get("/api/jobs/{job_id}")
    def job_state(job_id: str) -> dict[str, Any]:
        job = jobs.get(job_id)
        out = vars(job)
        if job.state == "done":
            out["results"] = jobs.results(job_id)
        return out

    @app.get("/jobs/{job_id}/report", response_class=HTMLResponse)
    def job_report(job_id: str) -> FileResponse:
        path = jobs.folder(job_id) / "report.html"
        if not path.is_file():
            raise CrystalDosError(f"job {job_id}: no report yet")
        return FileResponse(path, media_type="text/html")

    return app


def serve(run_dir: str | Path, models: list[str] | None = None, *, host: str = "127.0.0.1",
          port: int = 8000, device: str = "cpu", max_upload_mb: float = 20.0) -> None:
    """Run the page with uvicorn until Ctrl-C."""
    import uvicorn

    app = create_app(run_dir, models, device=device, max_upload_mb=max_upload_mb)
    uvicorn.run(app, host=host, port=port, log_level="warning")
