"""The local path of reintegration_effects.parallel: same results on every backend, task order,
the environment variables, and clear errors for unknown or missing backends."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from functools import partial

import numpy as np
import pytest

from reintegration_effects.parallel import (
    BACKENDS,
    ENV_BACKEND,
    ENV_N_JOBS,
    ParallelConfig,
    map_tasks,
    task_seeds,
)

LOCAL = [ParallelConfig(backend="sequential"), ParallelConfig(n_jobs=2, backend="loky"),
         ParallelConfig(n_jobs=2, backend="threading")]


# tasks: module-level so loky workers can import them -------------------------------------------

def numeric_task(task: tuple[int, int], size: int = 60) -> tuple[int, np.ndarray]:
    """A deterministic numeric task given its own seed: draws, a BLAS product, a least-squares fit."""
    k, seed = task
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((size * 4, size))
    y = x @ rng.standard_normal(size) + rng.standard_normal(size * 4)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    return k, np.concatenate([beta, np.linalg.eigvalsh(x.T @ x)])


def boosting_task(seed: int) -> np.ndarray:
    """The package's kind of task: a small gradient-boosting fit (OpenMP inside), seeded per task."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((400, 5))
    d = (x[:, 0] + rng.standard_normal(400) > 0).astype(int)
    m = HistGradientBoostingClassifier(max_iter=15, max_leaf_nodes=7, early_stopping=False,
                                       random_state=seed).fit(x, d)
    return m.predict_proba(x[:50])[:, 1]


def slow_first(k: int) -> tuple[int, int]:
    time.sleep(0.02 * (5 - k) if k < 5 else 0)  # early tasks finish last
    return k, os.getpid()


def inner_threads_seen(with_openmp: bool) -> int:
    if with_openmp:
        import sklearn.ensemble  # noqa: F401  (loads OpenMP, whose limits are per thread)
    from threadpoolctl import threadpool_info

    return max((lib["num_threads"] for lib in threadpool_info()), default=1)


def fails_on_three(k: int) -> int:
    if k == 3:
        raise ArithmeticError("task 3 failed")
    return k


def nested(k: int) -> list[int]:
    return map_tasks(_pid_of, range(3), ParallelConfig(n_jobs=2, backend="loky"))


def _pid_of(_k) -> int:
    return os.getpid()


# same results whatever the backend --------------------------------------------------------------

def test_same_results_on_every_local_backend():
    tasks = list(enumerate(task_seeds(20240101, 8)))
    results = [map_tasks(numeric_task, tasks, cfg) for cfg in LOCAL]
    for res in results:
        assert [k for k, _ in res] == list(range(8))
    ref = np.stack([v for _, v in results[0]])
    for res in results[1:]:
        np.testing.assert_array_equal(np.stack([v for _, v in res]), ref)


def test_gradient_boosting_fits_identical_sequential_and_threads():
    # threads, not loky: importing scikit-learn in fresh worker processes takes seconds.
    # Imported before the tasks set their thread limit, which covers loaded libraries only
    # (several OpenMP threads on a busy machine make each fit seconds instead of milliseconds)
    import sklearn.ensemble  # noqa: F401

    seeds = task_seeds(7, 4)
    seq = map_tasks(boosting_task, seeds, ParallelConfig(backend="sequential"))
    par = map_tasks(boosting_task, seeds, ParallelConfig(n_jobs=2, backend="threading"))
    np.testing.assert_array_equal(np.stack(seq), np.stack(par))


def test_task_seeds_reproducible_distinct_and_prefix_stable():
    a = task_seeds(123, 6)
    assert a == task_seeds(123, 6)
    assert len(set(a)) == 6
    assert task_seeds(123, 3) == a[:3]  # task k's seed does not depend on how many tasks follow
    assert task_seeds(124, 6) != a
    assert all(isinstance(s, int) and 0 <= s < 2**32 for s in a)
    assert task_seeds(1, 0) == []


def test_partial_binds_shared_inputs():
    out = map_tasks(partial(numeric_task, size=10), [(0, 1), (1, 2)], ParallelConfig(n_jobs=2))
    assert [k for k, _ in out] == [0, 1] and out[0][1].shape == (20,)


# order, errors, threads, nesting ---------------------------------------------------------------

@pytest.mark.parametrize("cfg", LOCAL, ids=lambda c: c.backend)
def test_results_in_task_order(cfg):
    out = map_tasks(slow_first, range(12), cfg)
    assert [k for k, _ in out] == list(range(12))


def test_loky_uses_worker_processes():
    pids = {pid for _, pid in map_tasks(slow_first, range(6), ParallelConfig(n_jobs=2, backend="loky"))}
    assert os.getpid() not in pids


def test_empty_and_generator_tasks():
    assert map_tasks(slow_first, [], ParallelConfig(n_jobs=2)) == []
    assert map_tasks(str, (i for i in range(3)), ParallelConfig(backend="sequential")) == ["0", "1", "2"]


@pytest.mark.parametrize("cfg", LOCAL, ids=lambda c: c.backend)
def test_thread_pools_limited_inside_every_task(cfg):
    # OpenMP (via scikit-learn, imported here first: threadpoolctl limits loaded libraries) only in
    # this process: importing scikit-learn in fresh loky workers takes seconds
    with_openmp = cfg.backend != "loky"
    if with_openmp:
        import sklearn.ensemble  # noqa: F401
    seen = map_tasks(inner_threads_seen, [with_openmp] * 4, cfg)
    assert seen == [1, 1, 1, 1]


def test_inner_threads_none_leaves_limits_alone():
    from threadpoolctl import threadpool_info

    before = max((lib["num_threads"] for lib in threadpool_info()), default=1)
    assert map_tasks(inner_threads_seen, [False], ParallelConfig(backend="sequential", inner_threads=None)) == [before]


def test_nested_call_inside_a_worker_runs_in_that_worker():
    outer = map_tasks(nested, range(2), ParallelConfig(n_jobs=2, backend="loky"))
    for pids in outer:
        assert len(set(pids)) == 1  # the inner map_tasks ran as a plain loop in the outer worker


# configuration ----------------------------------------------------------------------------------

def test_defaults():
    cfg = ParallelConfig()
    assert (cfg.n_jobs, cfg.backend, cfg.inner_threads, cfg.concurrent) == (1, "loky", 1, False)
    assert ParallelConfig(backend="ray").n_jobs == -1
    assert ParallelConfig(backend="dask").n_jobs == -1
    assert ParallelConfig(n_jobs=8, backend="sequential").n_jobs == 1
    assert ParallelConfig(n_jobs=-1).concurrent
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_jobs = 4  # type: ignore[misc]


def test_unknown_backend_is_a_clear_value_error():
    with pytest.raises(ValueError, match=r"unknown parallel backend 'spark': use one of sequential, loky"):
        ParallelConfig(backend="spark")
    with pytest.raises(ValueError, match=r"REINTEGRATION_BACKEND='spark' is not a parallel backend"):
        ParallelConfig.from_env(environ={ENV_BACKEND: "spark"})


@pytest.mark.parametrize("bad", [{"n_jobs": 0}, {"n_jobs": 1.5}, {"n_jobs": True}, {"inner_threads": 0}])
def test_bad_values_rejected(bad):
    with pytest.raises(ValueError):
        ParallelConfig(**bad)


@pytest.mark.parametrize(("env", "expected"), [
    ({}, (1, "loky")),
    ({ENV_N_JOBS: "4"}, (4, "loky")),
    ({ENV_N_JOBS: " -1 ", ENV_BACKEND: " Threading "}, (-1, "threading")),
    ({ENV_N_JOBS: "", ENV_BACKEND: ""}, (1, "loky")),
    ({ENV_BACKEND: "sequential", ENV_N_JOBS: "6"}, (1, "sequential")),
    ({ENV_BACKEND: "ray"}, (-1, "ray")),          # unset n_jobs on a cluster: the whole cluster
    ({ENV_BACKEND: "dask", ENV_N_JOBS: "16"}, (16, "dask")),
])
def test_from_env(env, expected):
    cfg = ParallelConfig.from_env(environ=env)
    assert (cfg.n_jobs, cfg.backend) == expected


def test_from_env_defaults_apply_to_local_backends_only():
    assert ParallelConfig.from_env(n_jobs=2, environ={}).n_jobs == 2
    assert ParallelConfig.from_env(n_jobs=2, environ={ENV_N_JOBS: "3"}).n_jobs == 3
    assert ParallelConfig.from_env(n_jobs=2, environ={ENV_BACKEND: "ray"}).n_jobs == -1
    assert ParallelConfig.from_env(backend="threading", environ={}).backend == "threading"


def test_from_env_reads_os_environ(monkeypatch):
    monkeypatch.setenv(ENV_N_JOBS, "3")
    monkeypatch.setenv(ENV_BACKEND, "threading")
    assert ParallelConfig.from_env() == ParallelConfig(n_jobs=3, backend="threading")
    assert [k for k, _ in map_tasks(slow_first, range(4))] == [0, 1, 2, 3]  # config=None: from env


@pytest.mark.parametrize("raw", ["four", "2.5", "0"])
def test_from_env_bad_n_jobs_names_the_variable(raw):
    with pytest.raises(ValueError, match="REINTEGRATION_N_JOBS"):
        ParallelConfig.from_env(environ={ENV_N_JOBS: raw})


# cluster backends without their packages --------------------------------------------------------

@pytest.mark.parametrize(("backend", "modules"), [
    ("ray", ["ray", "ray.util", "ray.util.joblib"]),
    ("dask", ["dask", "distributed"]),
])
def test_missing_cluster_package_names_the_extra(monkeypatch, backend, modules):
    for m in modules:
        monkeypatch.setitem(sys.modules, m, None)  # import raises ImportError, installed or not
    cfg = ParallelConfig(backend=backend)
    with pytest.raises(ImportError, match=rf"pip install 'reintegration-effects\[{backend}\]'"):
        map_tasks(slow_first, range(2), cfg)


def test_backends_listed():
    assert BACKENDS == ("sequential", "loky", "threading", "ray", "dask")


# a real Dask cluster, only where distributed is installed (not in CI) ----------------------------

def test_dask_local_cluster_same_results():
    pytest.importorskip("distributed")
    from dask.distributed import Client, LocalCluster

    tasks = list(enumerate(task_seeds(5, 4)))
    ref = map_tasks(numeric_task, tasks, ParallelConfig(backend="sequential"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster):
        out = map_tasks(numeric_task, tasks, ParallelConfig(backend="dask"))
    assert [k for k, _ in out] == [0, 1, 2, 3]
    np.testing.assert_array_equal(np.stack([v for _, v in out]), np.stack([v for _, v in ref]))


def test_dask_without_cluster_says_how_to_connect():
    pytest.importorskip("distributed")
    import dask

    with dask.config.set({"scheduler-address": None}), pytest.raises(RuntimeError, match="DASK_SCHEDULER_ADDRESS"):
        map_tasks(slow_first, range(2), ParallelConfig(backend="dask"))


def test_dask_connects_to_scheduler_address(monkeypatch):
    pytest.importorskip("distributed")
    import dask
    from dask.distributed import LocalCluster

    import reintegration_effects.parallel as par

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            dask.config.set({"scheduler-address": cluster.scheduler_address}):
        monkeypatch.setattr(par, "_DASK_CLIENT", None)
        try:
            out = map_tasks(slow_first, range(3), ParallelConfig(backend="dask"))
            assert par._DASK_CLIENT is not None
        finally:
            if par._DASK_CLIENT is not None:
                par._DASK_CLIENT.close()
    assert [k for k, _ in out] == [0, 1, 2]



@pytest.mark.slow  # starting Ray takes 10-20 s; runs with make validate where ray is installed
def test_ray_local_same_results():
    ray = pytest.importorskip("ray")
    tasks = list(enumerate(task_seeds(5, 4)))
    ref = map_tasks(numeric_task, tasks, ParallelConfig(backend="sequential"))
    started = not ray.is_initialized()
    if started:  # a small local Ray, or the cluster at RAY_ADDRESS
        ray.init(**({} if os.environ.get("RAY_ADDRESS") else {"num_cpus": 2, "include_dashboard": False}))
    try:
        out = map_tasks(numeric_task, tasks, ParallelConfig(backend="ray"))
    finally:
        if started:
            ray.shutdown()
    assert [k for k, _ in out] == [0, 1, 2, 3]
    np.testing.assert_array_equal(np.stack([v for _, v in out]), np.stack([v for _, v in ref]))


# last: an exception makes joblib shut its loky workers down (the tests above reuse them)

@pytest.mark.parametrize("cfg", LOCAL, ids=lambda c: c.backend)
def test_task_exception_is_raised(cfg):
    with pytest.raises(ArithmeticError, match="task 3 failed"):
        map_tasks(fails_on_three, range(6), cfg)
