"""A whole run on a Dask cluster and on Ray gives the tables of the one-process run, byte for byte.

The cluster here is a local one (``distributed.LocalCluster`` with worker processes: the tasks
and their inputs are pickled and sent, as to a remote cluster); the run is the command line in
its own process, connected as a user connects it (``DASK_SCHEDULER_ADDRESS``; Ray: a local Ray
started for the process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial

import numpy as np
import pytest

from reintegration_effects.cli import main
from reintegration_effects.parallel import ENV_BACKEND, ENV_N_JOBS, ParallelConfig, map_tasks

PERSONS = "600"


def _tables(out):
    return {p.name: p.read_bytes() for p in sorted((out / "tables").glob("*.csv"))}


def _assert_same_tables(out, expected):
    got = _tables(out)
    assert list(got) == list(expected) and len(got) > 30
    for name in expected:
        assert got[name] == expected[name], name


def _cli_run(data, out, *extra, env=None):
    """``reintegration-effects run`` in its own process, as a user starts it."""
    clean = {k: v for k, v in os.environ.items()
             if k not in (ENV_N_JOBS, ENV_BACKEND, "RAY_ADDRESS", "DASK_SCHEDULER_ADDRESS")}
    proc = subprocess.run([sys.executable, "-m", "reintegration_effects", "run", "--data", str(data),
                           "--out", str(out), "--seed", "7", "--no-report", "--dml-repetitions", "1", *extra],
                          capture_output=True, text=True, env={**clean, **(env or {})}, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The input and the one-process run (a plain loop: --n-jobs 1)."""
    base = tmp_path_factory.mktemp("distributed")
    data = base / "input"
    assert main(["simulate", "--out", str(data), "--persons", PERSONS, "--seed", "7"]) == 0
    out = base / "sequential"
    assert main(["run", "--data", str(data), "--out", str(out), "--seed", "7", "--no-report",
                 "--dml-repetitions", "1", "--n-jobs", "1"]) == 0
    return data, _tables(out)


def test_a_whole_run_on_a_dask_cluster_gives_the_same_tables(reference, tmp_path):
    pytest.importorskip("distributed")
    from dask.distributed import Client, LocalCluster

    data, expected = reference
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        before = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
        _cli_run(data, tmp_path / "out", "--backend", "dask",
                 env={"DASK_SCHEDULER_ADDRESS": cluster.scheduler_address})
        after = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
    assert after > before  # the fits ran on the cluster's workers, not in the run's process
    _assert_same_tables(tmp_path / "out", expected)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["parallel"]["backend"] == "dask"


def test_a_whole_run_on_ray_gives_the_same_tables(reference, tmp_path):
    pytest.importorskip("ray")
    data, expected = reference
    proc = _cli_run(data, tmp_path / "out", "--backend", "ray", "--n-jobs", "2")
    assert "Started a local Ray instance" in proc.stderr + proc.stdout  # not a plain loop
    _assert_same_tables(tmp_path / "out", expected)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["parallel"] == {"backend": "ray", "n_jobs": 2, "inner_threads": 1}


def test_a_dask_run_without_a_cluster_stops_before_it_starts(reference, tmp_path, capsys):
    pytest.importorskip("distributed")
    import dask

    data, _ = reference
    out = tmp_path / "out"
    with dask.config.set({"scheduler-address": None}):
        assert main(["run", "--data", str(data), "--out", str(out), "--seed", "7", "--no-report",
                     "--backend", "dask"]) == 2
    err = capsys.readouterr().err
    assert "DASK_SCHEDULER_ADDRESS" in err and "Fix:" in err and "--backend loky" in err
    assert not out.exists()


def _weighted_sum(task, *, x, ys, scale):
    k, seed = task
    rng = np.random.default_rng(seed)
    return k, scale * (x @ rng.normal(size=x.shape[1])) + ys["a"][k]


def test_dask_sends_a_partials_inputs_once_and_gives_the_same_results(monkeypatch):
    """The partial's keyword inputs (an array, a dict of arrays) are given to the dask backend to
    broadcast once (its ``scatter``), not pickled into every task; the results equal the plain loop's."""
    pytest.importorskip("distributed")
    import joblib
    from dask.distributed import Client, LocalCluster

    x = np.random.default_rng(1).normal(size=(2_000, 5))
    ys = {"a": np.arange(2_000.0)}
    fn = partial(_weighted_sum, x=x, ys=ys, scale=2.0)
    tasks = [(k, 100 + k) for k in range(6)]
    ref = map_tasks(fn, tasks, ParallelConfig(backend="sequential"))
    seen = []
    real = joblib.parallel_config

    def recording(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(joblib, "parallel_config", recording)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster):
        out = map_tasks(fn, tasks, ParallelConfig(backend="dask"))
    assert [k for k, _ in out] == list(range(6))
    np.testing.assert_array_equal(np.stack([v for _, v in out]), np.stack([v for _, v in ref]))
    (kwargs,) = seen
    assert kwargs["backend"] == "dask"
    assert [id(v) for v in kwargs["scatter"]] == [id(x), id(ys)]  # the scalar stays a plain argument
