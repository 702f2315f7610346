"""The featurizer: the one place a structure becomes a graph, on any backend.

:func:`graph_or_reason` builds (or loads from a :class:`~crystaldos.graphs.cache.GraphCache`) the
graph of one crystal and turns every failure into a one-line reason; :class:`Featurizer` maps it
over chunks of crystals in order.

Every backend returns, for each chunk, the results in input order, so batches for inference are
formed identically and every backend gives the same rows. Inference itself always runs in the
calling process (one model, batched).

* ``local``: in-process for one worker, else a forked ``multiprocessing`` pool whose processes
  use one torch thread each (a forked child that enters the parent's OpenMP thread pool hangs;
  with one thread it never does).
* ``dask``: ``dask.distributed`` (``pip install 'crystaldos[cluster]'``); uses the client given,
  else starts a local cluster with ``workers`` processes.
* ``ray``: Ray tasks (``pip install 'crystaldos[cluster]'``); connects to a running cluster when
  ``RAY_ADDRESS`` is set, else starts a local one with ``workers`` CPUs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from crystaldos.errors import CrystalDosError, StructureError
from crystaldos.graphs.crystal_graph import GraphSettings, build_graph

BACKENDS = ("local", "dask", "ray")


def graph_or_reason(crystal: Any, settings: GraphSettings, cache: Any = None) -> Any:
    """The graph of ``crystal`` (from ``cache`` when given), or the one-line reason it has none.

    A structure error keeps its own message; anything else that graph building can raise on a
    bad structure (a value out of range, a cell too large for memory) is named with its type.
    """
    try:
        return cache.get(crystal)[0] if cache is not None else build_graph(crystal, settings)
    except StructureError as err:
        return err.problem
    except (CrystalDosError, ValueError, MemoryError) as err:
        return f"featurization failed: {type(err).__name__}: {err}"


def featurize_chunk(settings: GraphSettings, crystals: Sequence[Any]) -> list[Any]:
    """Graphs of ``crystals``; a structure that cannot be featurized gives its reason (str)."""
    return [graph_or_reason(crystal, settings) for crystal in crystals]


def _one_thread() -> None:
    """Pool initializer: one torch thread per forked process, so that no child ever enters the
    OpenMP pool it inherited from the parent (that hangs)."""
    import torch

    torch.set_num_threads(1)


class Featurizer:
    """Maps chunks of crystals to graphs on a backend; use as a context manager."""

    def __init__(self, settings: GraphSettings, backend: str = "local", workers: int = 1,
                 client: Any = None) -> None:
        if backend not in BACKENDS:
            raise CrystalDosError(f"unknown backend {backend!r}; choose {', '.join(BACKENDS)}")
        if workers < 1:
            raise CrystalDosError("workers must be at least 1")
        self.settings, self.backend, self.workers, self.client = settings, backend, workers, client
        self._pool: Any = None
        self._owned: list[Any] = []  # dask client and cluster started here
        self._ray_started = False

    def __enter__(self) -> Featurizer:
        if self.backend == "local" and self.workers > 1:
            import multiprocessing

            self._pool = multiprocessing.get_context("fork").Pool(
                self.workers, initializer=_one_thread)
        elif self.backend == "dask":
            try:
                from dask.distributed import Client, LocalCluster
            except ImportError:
                raise CrystalDosError("the dask backend needs dask.distributed: "
                                      "pip install 'crystaldos[cluster]'") from None
            if self.client is None:
                cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
                self.client = Client(cluster)
                self._owned += [self.client, cluster]
        elif self.backend == "ray":
            try:
                import ray
            except ImportError:
                raise CrystalDosError("the ray backend needs ray: "
                                      "pip install 'crystaldos[cluster]'") from None
            if not ray.is_initialized():
                import os

                if os.environ.get("RAY_ADDRESS"):
                    ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False)
                else:
                    ray.init(num_cpus=self.workers, include_dashboard=False,
                             log_to_driver=False)
                self._ray_started = True
            self._remote = ray.remote(featurize_chunk)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
        for closable in self._owned:
            closable.close()
        self._owned = []
        if self._ray_started:
            import ray

            ray.shutdown()
            self._ray_started = False

    def map(self, chunks: Iterator[Sequence[Any]], ahead: int = 4,
            ) -> Iterator[tuple[Sequence[Any], list[Any]]]:
        """(chunk, its graphs or failure reasons) in input order; at most ``ahead`` chunks in
        flight per worker."""
        submit, fetch = self._submitter()
        window = max(1, ahead * self.workers)
        pending: list[tuple[Sequence[Any], Any]] = []
        for chunk in chunks:
            pending.append((chunk, submit(chunk)))
            if len(pending) >= window:
                done, handle = pending.pop(0)
                yield done, fetch(handle)
        while pending:
            done, handle = pending.pop(0)
            yield done, fetch(handle)

    def _submitter(self) -> tuple[Callable[[Sequence[Any]], Any], Callable[[Any], list[Any]]]:
        settings = self.settings
        if self.backend == "local" and self._pool is None:
            return (lambda chunk: featurize_chunk(settings, chunk)), (lambda result: result)
        if self.backend == "local":
            pool = self._pool
            return ((lambda chunk: pool.apply_async(featurize_chunk, (settings, list(chunk)))),
                    (lambda handle: handle.get()))
        if self.backend == "dask":
            client = self.client
            return ((lambda chunk: client.submit(featurize_chunk, settings, list(chunk),
                                                 pure=False)),
                    (lambda future: future.result()))
        import ray

        remote = self._remote
        return (lambda chunk: remote.remote(settings, list(chunk))), (lambda ref: ray.get(ref))
