"""Batch jobs of the web page: many structures screened in the background, kept on disk.

A job is a folder ``ROOT/jobs/<id>/``::

    job.json      id, model, ranking column, state, counts, error (written atomically)
    inputs/       the uploaded structure files (safe names, see crystaldos.web.uploads)
    run/          the screening run directory (crystaldos.screening.store)
    report.html   the screening report, once the job is done

Jobs run one at a time in a worker thread through :func:`crystaldos.screening.screen`. A job
that was queued or running when the server stopped is queued again when it starts; screening
resumes, so nothing already computed is redone.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crystaldos.errors import CrystalDosError
from crystaldos.safe_io import atomic_write_text

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
JOB_ID_CHARS = frozenset("0123456789abcdef")


@dataclass
class Job:
    """The stored state of one job; ``done`` counts rows and failures committed so far."""

    id: str
    model: str
    by: str | None
    upload: str
    state: str = QUEUED
    total: int | None = None
    done: int = 0
    failed: int = 0
    error: str = ""
    created: float = field(default_factory=time.time)
    finished: float | None = None


def check_id(value: str, what: str = "job") -> str:
    """``value`` if it has the form of the ids the page makes (32 hex digits), else an error
    (so an id can never name a path outside its folder)."""
    if len(value) != 32 or not set(value) <= JOB_ID_CHARS:
        raise CrystalDosError(f"{value!r}: no such {what}")
    return value


class JobManager:
    """Create, run and look up the jobs under ``root`` (see the module docstring)."""

    def __init__(self, root: Path, registry: Any) -> None:
        self.root = Path(root) / "jobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self.registry = registry
        self._queue: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._live: dict[str, Job] = {}
        for path in sorted(self.root.glob("*/job.json"), key=lambda p: p.stat().st_mtime):
            job = self._read(path.parent.name)
            if job is not None and job.state in (QUEUED, RUNNING):  # stopped mid-way: resume
                job.state = QUEUED
                self._write(job)
                self._queue.put(job.id)
        self._worker = threading.Thread(target=self._work, name="crystaldos-jobs", daemon=True)
        self._worker.start()

    # -- storage ------------------------------------------------------------------------------
    def folder(self, job_id: str) -> Path:
        return self.root / check_id(job_id)

    def _read(self, job_id: str) -> Job | None:
        try:
            data = json.loads((self.root / job_id / "job.json").read_text())
            return Job(**data)
        except (OSError, ValueError, TypeError):
            return None

    def _write(self, job: Job) -> None:
        atomic_write_text(self.root / job.id / "job.json", json.dumps(asdict(job)) + "\n")

    # -- API ----------------------------------------------------------------------------------
    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its (empty) inputs folder."""
        job_id = uuid.uuid4().hex
        inputs = self.root / job_id / "inputs"
        inputs.mkdir(parents=True)
        return job_id, inputs

    def submit(self, job_id: str, model: str, by: str | None, upload: str) -> Job:
        """Queue the job whose inputs are in place; its structures are counted first."""
        from crystaldos.structures.sources import count_structures

        if model not in self.registry.entries:
            raise CrystalDosError(f"{model}: not one of the served models")
        inputs = self.folder(job_id) / "inputs"
        job = Job(job_id, model, by or None, upload,
                  total=count_structures([inputs]))
        self._write(job)
        self._queue.put(job_id)
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            if job_id in self._live:
                return Job(**asdict(self._live[job_id]))
        job = self._read(check_id(job_id))
        if job is None:
            raise CrystalDosError(f"{job_id}: no such job")
        return job

    def list(self) -> list[Job]:
        jobs = [j for p in self.root.glob("*/job.json") if (j := self._read(p.parent.name))]
        return sorted((self.get(j.id) for j in jobs), key=lambda j: -j.created)

    def results(self, job_id: str, top: int = 20) -> dict[str, Any]:
        """The ranked rows (id, formula, ranking column) and failures of a finished job."""
        from crystaldos.screening.report import default_property, ranked
        from crystaldos.screening.store import read_meta, read_table

        job = self.get(job_id)
        run = self.folder(job_id) / "run"
        if job.state != DONE:
            raise CrystalDosError(f"job {job_id} is {job.state}, not done")
        by = job.by or default_property(read_meta(run))
        table = ranked(run, by, top=top)
        shown = [c for c in ("id", "formula", "n_atoms", by, "note") if c in table.column_names]
        inputs = str(self.folder(job_id) / "inputs") + "/"
        failures = [{"input": f["key"].replace(inputs, ""), "reason": f["reason"].replace(
            inputs, "")} for f in read_table(run, "failures").to_pylist()]
        return {"by": by, "columns": shown, "rows": table.select(shown).to_pylist(),
                "failures": failures}

    # -- the worker ---------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            try:
                self._run(job_id)
            except Exception as err:  # a job must never take the worker down
                job = self._read(job_id)
                if job is not None:
                    job.state, job.error = FAILED, f"{type(err).__name__}: {err}"
                    job.finished = time.time()
                    self._write(job)
            finally:
                with self._lock:
                    self._live.pop(job_id, None)

    def _run(self, job_id: str) -> None:
        from crystaldos.screening import screen, write_report
        from crystaldos.screening.store import read_table

        job = self._read(job_id)
        if job is None:
            return
        folder = self.root / job_id
        run = folder / "run"
        done_before = (read_table(run, "rows", ["key"]).num_rows +
                       read_table(run, "failures", ["key"]).num_rows
                       if (run / "screen.json").exists() else 0)
        job.state, job.done = RUNNING, done_before
        self._write(job)
        with self._lock:
            self._live[job_id] = job
        last = [time.monotonic()]

        def progress(written: int, failed: int) -> None:
            with self._lock:
                job.done, job.failed = done_before + written + failed, failed
            if time.monotonic() - last[0] > 2.0:
                self._write(job)
                last[0] = time.monotonic()

        try:
            screen([folder / "inputs"], self.registry.bundle(job.model), run,
                   device=self.registry.device, progress=progress, shard_size=256)
            job.failed = read_table(run, "failures", ["key"]).num_rows
            if read_table(run, "rows", ["key"]).num_rows == 0:
                raise CrystalDosError("no structure could be screened; see the failures")
            write_report(run, folder / "report.html", by=job.by)
        except CrystalDosError as err:
            job.state, job.error = FAILED, str(err)
        else:
            job.state = DONE
        job.finished = time.time()
        self._write(job)
