"""Independent tasks in parallel, on one machine or on a Ray or Dask cluster, with the same results.

The embarrassingly parallel parts of the package (per-programme fits, cross-fitting folds,
bootstrap replications, validation seeds) go through one function::

    from reintegration_effects.parallel import ParallelConfig, map_tasks, task_seeds

    seeds = task_seeds(random_state, len(programmes))       # one seed per task, made by the caller
    out = map_tasks(fit_one, list(zip(programmes, seeds)), ParallelConfig(n_jobs=4))

:func:`map_tasks` calls ``fn(task)`` for every task and returns the results in task order, on
the backend the :class:`ParallelConfig` names:

- ``"sequential"``: a plain loop in this process (joblib is not involved);
- ``"loky"`` (default): worker processes on this machine (joblib's default backend);
- ``"threading"``: threads in this process (for tasks that release the GIL);
- ``"ray"``: a Ray cluster through ``ray.util.joblib``: the one ``ray.init`` joined, else the one at
  ``RAY_ADDRESS``, else a local Ray started for the process (``pip install 'reintegration-effects[ray]'``);
- ``"dask"``: a Dask cluster through distributed's joblib backend: the current
  ``dask.distributed.Client``, else one connected to ``DASK_SCHEDULER_ADDRESS``
  (``pip install 'reintegration-effects[dask]'``).

Without a config, :func:`map_tasks` reads ``REINTEGRATION_N_JOBS`` and ``REINTEGRATION_BACKEND``
(:meth:`ParallelConfig.from_env`), so a run can be moved to more cores or a cluster without
changing code. How to do that: docs/scaling.md.

Reproducibility: the results do not depend on the backend or ``n_jobs``, provided every task is
deterministic given its own inputs. Tasks therefore never draw from a shared random state; the
caller gives each task its own seed (:func:`task_seeds`, numpy ``SeedSequence.spawn``), so task k
gets the same seed whichever worker runs it and in whatever order.

Threads: every task runs with its BLAS/OpenMP thread pools limited to ``inner_threads``
(default 1, threadpoolctl), on every backend, the sequential one included. In parallel this keeps
n workers x all cores from oversubscribing the machine (joblib's loky backend on its own caps
worker threads at cpu_count // n_jobs through OMP_NUM_THREADS and friends; here it gets
``inner_max_num_threads``). In a plain loop it keeps the results byte-identical to the parallel
runs: BLAS sums in a different order with more threads (measured: up to 1e-14 in a third of the
matching estimates). A call of :func:`map_tasks` inside a task runs as a plain loop, so nested
parallel parts (validation seeds around per-programme fits) do not multiply processes.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "BACKENDS",
    "ENV_BACKEND",
    "ENV_N_JOBS",
    "ParallelConfig",
    "connect_backend",
    "map_tasks",
    "task_seeds",
]

T = TypeVar("T")
R = TypeVar("R")

#: backend names accepted by :class:`ParallelConfig`
BACKENDS = ("sequential", "loky", "threading", "ray", "dask")
CLUSTER_BACKENDS = ("ray", "dask")

ENV_N_JOBS = "REINTEGRATION_N_JOBS"
ENV_BACKEND = "REINTEGRATION_BACKEND"

_EXTRA_HINT = {
    "ray": ("Ray", "ray"),
    "dask": ("Dask distributed", "dask"),
}


@dataclass(frozen=True)
class ParallelConfig:
    """Where and how wide :func:`map_tasks` runs.

    n_jobs : number of concurrent tasks; -1 every CPU (on ray: every CPU of the cluster), -2 all
        but one, as in joblib. ``None`` (default): 1 on the local backends, -1 on ray and dask.
        Ignored by "sequential" (always 1) and by "dask" (the cluster's workers decide).
    backend : one of :data:`BACKENDS`.
    inner_threads : BLAS/OpenMP threads per task, on every backend (threadpoolctl); ``None``
        leaves the libraries' own settings alone, at the price of results that may differ in the
        last bits between a plain loop and parallel runs.
    """

    n_jobs: int | None = None
    backend: str = "loky"
    inner_threads: int | None = 1

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(
                f"unknown parallel backend {self.backend!r}: use one of {', '.join(BACKENDS)}")
        n_jobs = self.n_jobs
        if n_jobs is None:
            n_jobs = -1 if self.backend in CLUSTER_BACKENDS else 1
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer):
            raise ValueError(f"n_jobs must be an integer (or -1 for every CPU), got {n_jobs!r}")
        if n_jobs == 0:
            raise ValueError("n_jobs=0 runs nothing: use 1 for one task at a time, -1 for every CPU")
        if self.backend == "sequential":
            n_jobs = 1
        object.__setattr__(self, "n_jobs", int(n_jobs))
        if self.inner_threads is not None and (
                isinstance(self.inner_threads, bool) or not isinstance(self.inner_threads, int)
                or self.inner_threads < 1):
            raise ValueError(f"inner_threads must be a positive integer or None, got {self.inner_threads!r}")

    @property
    def concurrent(self) -> bool:
        """Whether tasks may run at the same time (else :func:`map_tasks` is a plain loop)."""
        if self.backend == "sequential":
            return False
        return self.backend == "dask" or self.n_jobs != 1

    @classmethod
    def from_env(cls, *, n_jobs: int | None = None, backend: str = "loky", inner_threads: int | None = 1,
                 environ: Mapping[str, str] | None = None) -> ParallelConfig:
        """The config named by ``REINTEGRATION_N_JOBS`` and ``REINTEGRATION_BACKEND``.

        The arguments are the defaults for variables that are unset or empty. ``n_jobs`` is the
        default on the local backends only: when the backend is ray or dask and
        ``REINTEGRATION_N_JOBS`` is unset, the whole cluster is used (n_jobs=-1), so setting
        ``REINTEGRATION_BACKEND=ray`` alone is enough. ``environ`` defaults to ``os.environ``.
        Raises ValueError naming the variable when a value is not usable.
        """
        env = os.environ if environ is None else environ
        raw_backend = (env.get(ENV_BACKEND) or "").strip().lower()
        raw_jobs = (env.get(ENV_N_JOBS) or "").strip()
        chosen_backend = raw_backend or backend
        if raw_backend and raw_backend not in BACKENDS:
            raise ValueError(f"{ENV_BACKEND}={env.get(ENV_BACKEND)!r} is not a parallel backend: "
                             f"use one of {', '.join(BACKENDS)}")
        if raw_jobs:
            try:
                jobs: int | None = int(raw_jobs)
            except ValueError:
                raise ValueError(f"{ENV_N_JOBS}={raw_jobs!r} is not an integer: use a number of "
                                 f"concurrent tasks (e.g. 4) or -1 for every CPU") from None
            if jobs == 0:
                raise ValueError(f"{ENV_N_JOBS}=0 runs nothing: use 1 for one task at a time, -1 for every CPU")
        elif chosen_backend in CLUSTER_BACKENDS:
            jobs = None
        else:
            jobs = n_jobs
        return cls(n_jobs=jobs, backend=chosen_backend, inner_threads=inner_threads)


def task_seeds(random_state: int | None, n: int) -> list[int]:
    """``n`` independent seeds for ``n`` tasks, from one seed (numpy ``SeedSequence.spawn``).

    Task k always gets the k-th seed, whichever backend or worker runs it, so results do not
    depend on how the tasks are spread. The seeds are plain ints in [0, 2**32), accepted by numpy
    (``np.random.default_rng(seed)``) and scikit-learn (``random_state=seed``). ``None`` draws fresh
    entropy: different every run.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    children = np.random.SeedSequence(random_state).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


# ------------------------------------------------------------------------------------------------
# running the tasks
# ------------------------------------------------------------------------------------------------

_state = threading.local()
_DASK_CLIENT = None  # the client map_tasks opened from DASK_SCHEDULER_ADDRESS, kept for the process


def _inside_task() -> bool:
    return getattr(_state, "depth", 0) > 0


def _load_blas() -> None:
    """Load scipy's BLAS (numpy's is loaded with numpy): threadpoolctl only limits loaded libraries."""
    try:
        import scipy.linalg  # noqa: F401
    except ImportError:
        pass


class _Task:
    """``fn(task, **shared)`` with, if asked, the thread pools of ``user_api`` ("blas", "openmp"; None: all)
    limited, and with the task marked as running (``mark``: a nested :func:`map_tasks` then runs
    as a plain loop). Module-level, so workers can unpickle it."""

    def __init__(self, fn: Callable[[Any], Any], inner_threads: int | None, user_api: str | None = None,
                 mark: bool = True):
        self.fn = fn
        self.inner_threads = inner_threads
        self.user_api = user_api
        self.mark = mark

    def __call__(self, task: Any, **shared: Any) -> Any:
        if self.mark:
            _state.depth = getattr(_state, "depth", 0) + 1
        try:
            if self.inner_threads is None:
                return self.fn(task, **shared)
            from threadpoolctl import threadpool_limits

            _load_blas()
            with threadpool_limits(limits=self.inner_threads, user_api=self.user_api):
                return self.fn(task, **shared)
        finally:
            if self.mark:
                _state.depth -= 1


def _missing(backend: str, err: ImportError) -> ImportError:
    what, extra = _EXTRA_HINT[backend]
    return ImportError(
        f"the {backend!r} parallel backend needs {what}, which is not installed. Install it with "
        f"pip install 'reintegration-effects[{extra}]' (from a checkout: pip install -e '.[{extra}]'), "
        f"or choose a local backend ({ENV_BACKEND}=loky). See docs/scaling.md. ({err})")


def _prepare_backend(backend: str) -> None:
    """Make a cluster backend available to joblib, or say which extra to install."""
    if backend == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError as err:
            raise _missing("ray", err) from err
        register_ray()  # registers joblib backend "ray"; idempotent
    elif backend == "dask":
        try:
            import dask
            from distributed import Client
        except ImportError as err:
            raise _missing("dask", err) from err
        # joblib registers its "dask" backend itself on first use; it runs on the current Client
        try:
            Client.current()
        except ValueError:
            address = dask.config.get("scheduler-address", None)  # DASK_SCHEDULER_ADDRESS
            if not address:
                raise RuntimeError(
                    "the 'dask' parallel backend needs a Dask cluster: start a client in this process "
                    "(from dask.distributed import Client; client = Client('tcp://scheduler:8786')) or "
                    "set DASK_SCHEDULER_ADDRESS=tcp://scheduler:8786. See docs/scaling.md.") from None
            global _DASK_CLIENT
            _DASK_CLIENT = Client(address)  # becomes the default client for the rest of the process


def connect_backend(config: ParallelConfig) -> None:
    """Check, before any work, that ``config``'s backend can run its tasks: a cluster backend's
    package is installed (else an ImportError naming the extra) and, for ``"dask"``, a client is
    current or the scheduler at ``DASK_SCHEDULER_ADDRESS`` answers (else a RuntimeError or
    OSError saying how to connect). Nothing to check for the local backends or one task at a time.
    """
    if config.concurrent:
        _prepare_backend(config.backend)


def _split_shared(fn: Callable) -> tuple[Callable, dict[str, Any]]:
    """``fn`` as (function, keyword inputs shared by every task) when it is a
    ``functools.partial`` with keywords, else (fn, {})."""
    import functools

    if isinstance(fn, functools.partial) and fn.keywords:
        return functools.partial(fn.func, *fn.args), dict(fn.keywords)
    return fn, {}


def map_tasks(fn: Callable[[T], R], tasks: Iterable[T], config: ParallelConfig | None = None) -> list[R]:
    """``[fn(t) for t in tasks]``, run on the backend of ``config``; results in task order.

    ``fn`` takes one task; bind shared inputs with ``functools.partial`` (a module-level function,
    so process and cluster workers can import it; every worker needs this package installed).
    ``config=None`` reads the environment (:meth:`ParallelConfig.from_env`). An exception in a
    task is raised here. Called inside a task, it runs as a plain loop.
    """
    config = ParallelConfig.from_env() if config is None else config
    tasks = list(tasks)
    if not tasks:
        return []
    if _inside_task():
        # the enclosing map_tasks is the parallel level, and has limited the threads already
        return [fn(t) for t in tasks]
    if not config.concurrent:
        # one at a time in this process, with the same thread limit as in parallel (same results);
        # not marked, so a map_tasks inside may run in parallel
        run = _Task(fn, config.inner_threads, mark=False)
        return [run(t) for t in tasks]

    _prepare_backend(config.backend)
    import joblib

    backend_params: dict[str, Any] = {}
    if config.backend == "loky" and config.inner_threads is not None:
        # loky sets OMP_NUM_THREADS etc. in the worker environment (covers libraries loaded later)
        backend_params["inner_max_num_threads"] = config.inner_threads
    shared: dict[str, Any] = {}
    if config.backend == "dask":
        # joblib pickles the callable, partial and its bound inputs included, into every task; on a
        # cluster that ships the shared arrays (the risk sets, a covariate matrix) once per task.
        # The partial's keywords go as call arguments instead, broadcast to every worker once
        # through the dask backend's ``scatter`` and passed to the tasks as futures (joblib's
        # own auto-scatter skips dicts and small objects; listing them here covers every one).
        fn, shared = _split_shared(fn)
        big = [v for v in shared.values() if not isinstance(v, int | float | str | bytes | bool | None)]
        if big:  # (scalars stay plain arguments: small, and one int object is shared by every 1)
            backend_params["scatter"] = big
    with contextlib.ExitStack() as stack:
        if config.backend == "threading" and config.inner_threads is not None:
            # BLAS limits are process-wide: set once around all the threads (setting and restoring
            # them per task would race); OpenMP's are per thread: set inside each task
            from threadpoolctl import threadpool_limits

            _load_blas()
            stack.enter_context(threadpool_limits(limits=config.inner_threads, user_api="blas"))
            run = _Task(fn, config.inner_threads, user_api="openmp")
        else:
            run = _Task(fn, config.inner_threads)
        stack.enter_context(joblib.parallel_config(backend=config.backend, n_jobs=config.n_jobs,
                                                   **backend_params))
        return joblib.Parallel(return_as="list")(joblib.delayed(run)(t, **shared) for t in tasks)
