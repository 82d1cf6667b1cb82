"""The command line as a careless user meets it: no traceback, one message with the fix, the right
exit status; runs that are atomic (a killed run leaves OUT as it was), locked, verifiable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from reintegration_effects import manifest as manifest_mod
from reintegration_effects import pipeline
from reintegration_effects.cli import main
from reintegration_effects.panel import CACHE_HASHES

PERSONS = "300"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sim") / "input"
    assert main(["simulate", "--out", str(folder), "--persons", PERSONS, "--seed", "7"]) == 0
    return folder


def _table_step(text: str = "a,b\n1,2\n"):
    def step(ctx):
        path = ctx.tables_dir / "fast.csv"
        path.write_text(text)
        ctx.outputs.append(path)
        return "fast table written"
    return step


@pytest.fixture
def fast(monkeypatch):
    """The real validate and panel steps, then one small table instead of the analyses."""
    steps = [*pipeline.STEPS[:2], ("fast table", _table_step())]
    monkeypatch.setattr(pipeline, "STEPS", steps)
    return steps


def _run(data, out, *extra) -> int:
    return main(["run", "--data", str(data), "--out", str(out), "--seed", "7", "--no-report", *extra])


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err
    assert "Fix" in err or "fix" in err


# ------------------------------------------------------------------------------------------------
# bad CLI values: argparse refuses them (exit status 2, the fix in the message)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["run", "--out", "o", "--n-jobs", "0"],
    ["run", "--out", "o", "--n-jobs", "two"],
    ["run", "--out", "o", "--persons", "0"],
    ["run", "--out", "o", "--persons", "-5"],
    ["run", "--out", "o", "--max-risk-set-rows", "-1"],
    ["run", "--out", "o", "--seed", "-1"],
    ["run", "--out", "o", "--dml-repetitions", "0"],
    ["simulate", "--out", "o", "--persons", "-5"],
    ["simulate", "--out", "o", "--persons", "0"],
    ["simulate", "--out", "o", "--persons", "5"],
])
def test_bad_option_values_exit_2_with_the_fix(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "error:" in err
    assert not (tmp_path / "o").exists()


def test_dml_repetitions_reach_the_estimator(data, tmp_path, monkeypatch):
    """--dml-repetitions N is the double-ML fit's n_rep (the default: the estimator's own)."""
    from reintegration_effects import effects

    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get("n_rep", "default"))
        raise effects.InsufficientDataError("spy: stop here", tables=("effects",))

    monkeypatch.setattr(effects, "estimate_effects", spy)
    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS[:2], ("effects", pipeline.step_effects)])
    _run(data, tmp_path / "a", "--no-report", "--dml-repetitions", "3")
    _run(data, tmp_path / "b", "--no-report")
    assert seen == [3, "default"]


def test_n_jobs_minus_one_is_every_cpu(data, tmp_path, fast):
    assert _run(data, tmp_path / "out", "--n-jobs", "-1") == 0


def test_bad_environment_setting_exits_2(data, tmp_path, fast, monkeypatch, capsys):
    monkeypatch.setenv("REINTEGRATION_N_JOBS", "0")
    assert _run(data, tmp_path / "out") == 2
    _no_traceback(capsys.readouterr().err)


def test_bad_option_value_in_a_subprocess_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "reintegration_effects", "run", "--out", str(tmp_path / "o"),
                           "--n-jobs", "0"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "--n-jobs" in proc.stderr


# ------------------------------------------------------------------------------------------------
# paths and file-system errors
# ------------------------------------------------------------------------------------------------


def test_out_pointing_at_a_file_exits_2(data, tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    assert _run(data, f) == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "is a file" in err
    assert f.read_text() == "x"
    assert _run(data, f / "below") == 2  # a folder under a file
    assert "is a file" in capsys.readouterr().err


def test_out_holding_other_files_is_refused(data, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    assert _run(data, out) == 2
    err = capsys.readouterr().err
    assert "thesis.docx" in err and "new or empty folder" in err
    assert (out / "thesis.docx").read_text() == "precious"


def test_read_only_out_exits_2(data, tmp_path, fast, capsys, monkeypatch):
    out = tmp_path / "out"
    assert _run(data, out) == 0
    before = (out / "manifest.json").read_bytes()
    out.chmod(0o555)
    try:
        if os.geteuid() == 0:  # root writes anywhere: make os.access answer as for a normal user
            real = os.access
            monkeypatch.setattr(manifest_mod.os, "access",
                                lambda p, mode: False if Path(p) == out else real(p, mode))
        assert _run(data, out) == 2
        err = capsys.readouterr().err
        _no_traceback(err)
        assert "read-only" in err
        assert (out / "manifest.json").read_bytes() == before
    finally:
        out.chmod(0o755)


def test_non_writable_parent_exits_2(data, tmp_path, fast, capsys, monkeypatch):
    parent = tmp_path / "locked"
    parent.mkdir()
    real = os.access
    monkeypatch.setattr(manifest_mod.os, "access", lambda p, mode: False if Path(p) == parent else real(p, mode))
    assert _run(data, parent / "out") == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "cannot write in" in err


@pytest.mark.parametrize("error, words", [
    (PermissionError(13, "Permission denied", "/somewhere/tables"), "write access"),
    (OSError(28, "No space left on device", "/somewhere/tables/x.csv"), "free disk space"),
    (NotADirectoryError(20, "Not a directory", "/somewhere/file"), "a file stands where a folder is needed"),
])
def test_file_system_errors_midway_exit_2_and_leave_out_unchanged(data, tmp_path, fast, monkeypatch, capsys,
                                                                   error, words):
    out = tmp_path / "out"
    assert _run(data, out) == 0
    before = (out / "manifest.json").read_bytes()

    def fails(ctx):
        raise error

    monkeypatch.setattr(pipeline, "STEPS", [*fast[:2], ("fails", fails)])
    assert _run(data, out) == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert words in err and "/somewhere" in err
    assert (out / "manifest.json").read_bytes() == before
    assert _leftovers(out) == []  # no temporary folder, no lock


# ------------------------------------------------------------------------------------------------
# internal errors, interrupts, killed runs
# ------------------------------------------------------------------------------------------------


def test_internal_error_exits_1_with_a_log_outside_out(data, tmp_path, fast, monkeypatch, capsys):
    out = tmp_path / "out"
    assert _run(data, out) == 0
    old = {p.name: p.read_bytes() for p in (out / "tables").iterdir()}

    def half_then_bug(ctx):  # a new table is written, then the run breaks
        (ctx.tables_dir / "fast.csv").write_text("a,b\n9,9\n")
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline, "STEPS", [*fast[:2], ("bug", half_then_bug)])
    assert _run(data, out) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Internal error" in err and "a bug" in err
    log = Path(err.split("The details are in ")[1].split(";")[0])
    assert log.is_file() and "Traceback" in log.read_text() and "RuntimeError: a bug" in log.read_text()
    assert not log.resolve().is_relative_to(out.resolve())
    # the killed rerun left the old run whole: its manifest vouches for exactly the old tables
    assert {p.name: p.read_bytes() for p in (out / "tables").iterdir()} == old
    assert main(["verify", str(out)]) == 0
    assert _leftovers(out) == []


def test_keyboard_interrupt_exits_130_and_cleans_up(data, tmp_path, fast, monkeypatch, capsys):
    out = tmp_path / "out"
    assert _run(data, out) == 0
    before = (out / "manifest.json").read_bytes()

    def interrupted(ctx):
        (ctx.tables_dir / "fast.csv").write_text("a,b\n9,9\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "STEPS", [*fast[:2], ("interrupted", interrupted)])
    assert _run(data, out) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Interrupted" in err
    assert (out / "manifest.json").read_bytes() == before
    assert main(["verify", str(out)]) == 0
    assert _leftovers(out) == []


def _start_run(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "reintegration_effects", "run", "--out", str(out), "--persons", PERSONS,
         "--seed", "7", "--no-report", "--dml-repetitions", "1", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # SIGINT as in a terminal: a test session started in the background ignores SIGINT, and a
        # child would inherit that (Python then leaves Ctrl-C ignored, and the run ends with 0)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_lock(out: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    lock = out.parent / f".{out.name}.lock"
    t0 = time.monotonic()
    while not lock.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout
        time.sleep(0.05)
    time.sleep(1.0)  # into the simulation


def test_ctrl_c_in_a_real_run_exits_130_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    proc = _start_run(out)
    _wait_for_lock(out, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    # 130; or killed by SIGINT (-2, which a shell shows as 130 too) when CPython saw the interrupt
    # inside exec'd code (dataclass or namedtuple creation during an import), after main handled it
    assert proc.returncode in (130, -signal.SIGINT), err
    assert "Traceback" not in err and "Interrupted" in err
    assert not out.exists()
    assert _leftovers(out) == []


def test_a_ctrl_c_that_a_library_swallows_still_stops_the_run(data, tmp_path, monkeypatch, capsys):
    """A Ctrl-C whose KeyboardInterrupt a library swallows (a bare ``except:``) still stops the run:
    the command line remembers it and the run stops after the step: 130, and OUT as it was (absent)."""
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (xdist ignores it)

    def swallowing_step(ctx):
        try:
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # what the Ctrl-C does, in this step
        except:  # noqa: E722 - the library's bare except
            pass
        return "interrupt swallowed"

    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS[:1], ("swallow", swallowing_step),
                                            ("fast table", _table_step())])
    out = tmp_path / "out"
    try:
        assert _run(data, out) == 130
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # main put the handler back
    finally:
        signal.signal(signal.SIGINT, before)
    assert "Interrupted" in capsys.readouterr().err
    assert not out.exists() and _leftovers(out) == []


def test_a_hard_killed_run_leaves_no_manifest_and_the_next_run_cleans_up(data, tmp_path, fast):
    out = tmp_path / "out"
    proc = _start_run(out)
    _wait_for_lock(out, proc)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.communicate()
    assert not (out / "manifest.json").exists()
    assert any(".tmp-" in n for n in _leftovers(out)) or not _leftovers(out)
    assert _run(data, out) == 0  # the stale lock (dead pid) and the temporary folder are taken care of
    assert _leftovers(out) == []
    assert main(["verify", str(out)]) == 0


# ------------------------------------------------------------------------------------------------
# the lock
# ------------------------------------------------------------------------------------------------


def test_a_second_run_into_a_locked_out_is_refused(data, tmp_path, fast, capsys):
    out = tmp_path / "out"
    lock = tmp_path / ".out.lock"
    import socket
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "now"}))
    assert _run(data, out) == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "another run is writing" in err and str(os.getpid()) in err
    assert lock.exists() and not out.exists()


def test_a_stale_lock_of_a_dead_process_is_taken_over(data, tmp_path, fast):
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".out.lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    assert _run(data, tmp_path / "out") == 0
    assert not (tmp_path / ".out.lock").exists()


def test_concurrent_runs_into_one_out(data, tmp_path):
    """A real second run while the first holds the lock: refused; the first finishes and verifies."""
    out = tmp_path / "out"
    first = _start_run(out, "--cache", str(tmp_path / "cache"))
    _wait_for_lock(out, first)
    proc = subprocess.run([sys.executable, "-m", "reintegration_effects", "run", "--data", str(data), "--out",
                           str(out), "--no-report"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "another run is writing" in proc.stderr and "Traceback" not in proc.stderr
    _, err = first.communicate(timeout=600)
    assert "Traceback" not in err
    if first.returncode == 0:
        m = json.loads((out / "manifest.json").read_text())
        assert m["simulated"] is True and m["status"] == "complete"
        assert main(["verify", str(out)]) == 0
    else:  # the analyses refused or failed (not this test's subject): then nothing is in OUT
        assert first.returncode in (1, 2, 3), err
        assert not out.exists()
    assert _leftovers(out) == []


# ------------------------------------------------------------------------------------------------
# manifest and verify
# ------------------------------------------------------------------------------------------------


def test_manifest_is_complete_and_verify_detects_tampering(data, tmp_path, fast, capsys):
    out = tmp_path / "out"
    assert _run(data, out) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "complete"
    assert m["software"]["package_version"]
    assert set(m["outputs"]) == {"cleaning_log.csv", "tables/fast.csv", "disclosure_report.md"}
    assert main(["verify", str(out)]) == 0
    capsys.readouterr()

    (out / "tables" / "fast.csv").write_text("a,b\n1,3\n")
    assert main(["verify", str(out)]) == 1
    assert "changed (hash differs): tables/fast.csv" in capsys.readouterr().err
    (out / "cleaning_log.csv").unlink()
    (out / "tables" / "smuggled.csv").write_text("x\n")
    assert main(["verify", str(out)]) == 1
    err = capsys.readouterr().err
    assert "missing: cleaning_log.csv" in err and "extra (not in the manifest): tables/smuggled.csv" in err


def test_verify_without_a_manifest_exits_2(tmp_path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    _no_traceback(capsys.readouterr().err)
    assert main(["verify", str(tmp_path / "absent")]) == 2


def test_verify_refuses_an_unfinished_manifest(data, tmp_path, fast, capsys):
    out = tmp_path / "out"
    assert _run(data, out) == 0
    m = json.loads((out / "manifest.json").read_text())
    m["status"] = "report pending"
    (out / "manifest.json").write_text(json.dumps(m))
    assert main(["verify", str(out)]) == 1
    assert "did not finish" in capsys.readouterr().err


def test_rerun_replaces_out_as_a_whole(data, tmp_path, fast, monkeypatch):
    """A table the new run does not write is gone: OUT never mixes two runs."""
    out = tmp_path / "out"
    assert _run(data, out) == 0
    (out / "tables" / "fast.csv").rename(out / "tables" / "from_an_older_run.csv")
    assert _run(data, out) == 0
    assert sorted(p.name for p in (out / "tables").iterdir()) == ["fast.csv"]
    assert main(["verify", str(out)]) == 0


def test_simulated_run_moves_input_and_truth_into_out(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "STEPS", [*pipeline.STEPS[:2], ("fast table", _table_step())])
    out = tmp_path / "out"
    assert main(["run", "--out", str(out), "--persons", PERSONS, "--seed", "7", "--no-report"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["simulated"] is True
    assert Path(m["truth"]) == out.resolve() / "input_truth" and Path(m["truth"]).is_dir()
    for entry in m["inputs"].values():
        assert Path(entry["file"]).is_file() and Path(entry["file"]).is_relative_to(out.resolve() / "input")
    assert "input/persons.csv" in m["outputs"]
    assert ".tmp-" not in json.dumps(m)
    assert main(["verify", str(out)]) == 0


# ------------------------------------------------------------------------------------------------
# the panel cache: outside OUT, verified before reuse
# ------------------------------------------------------------------------------------------------


def _cache_folder(cache: Path) -> Path:
    (folder,) = [p for p in cache.iterdir() if p.name.startswith("panel-")]
    return folder


def test_cache_is_outside_out_by_default(data, tmp_path, fast, capsys):
    out = tmp_path / "out"
    assert _run(data, out) == 0
    assert not (out / "cache").exists()
    assert not any(p.suffix == ".parquet" for p in out.rglob("*"))
    cache = tmp_path / ".reintegration-cache"
    assert (_cache_folder(cache) / CACHE_HASHES).is_file()
    assert _run(data, out) == 0
    assert "reused cache" in capsys.readouterr().out


def test_cache_inside_out_is_refused(data, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(data, out, "--cache", str(out / "cache")) == 2
    assert "inside the output folder" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncate", "tamper", "garbage", "no-hashes"])
def test_damaged_cache_is_rebuilt_with_a_line(data, tmp_path, fast, capsys, damage):
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert _run(data, out, "--cache", str(cache)) == 0
    folder = _cache_folder(cache)
    first = (out / "tables" / "fast.csv").read_bytes()
    months = folder / "months.parquet"
    if damage == "truncate":
        months.write_bytes(months.read_bytes()[:100])
    elif damage == "tamper":  # still valid Parquet, one person's months changed
        df = pd.read_parquet(months)
        df.loc[df.index[:12], "bijstand"] = ~df.loc[df.index[:12], "bijstand"]
        df.to_parquet(months, index=False)
    elif damage == "garbage":
        (folder / CACHE_HASHES).write_text("{not json")
    else:
        (folder / CACHE_HASHES).unlink()
    capsys.readouterr()
    assert _run(data, out, "--cache", str(cache)) == 0
    printed = capsys.readouterr().out
    assert "is not usable" in printed and "rebuilding" in printed and "built and cached" in printed
    assert (out / "tables" / "fast.csv").read_bytes() == first
    assert cache_ok(folder)
    capsys.readouterr()
    assert _run(data, out, "--cache", str(cache)) == 0
    assert "reused cache" in capsys.readouterr().out


def cache_ok(folder: Path) -> bool:
    from reintegration_effects.panel import cache_problem

    return cache_problem(folder) is None


def test_unwritable_cache_does_not_stop_the_run(data, tmp_path, fast, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder's parent should be")
    assert _run(data, tmp_path / "out", "--cache", str(blocker / "cache")) == 0
    printed = capsys.readouterr().out
    assert "panel cache not written" in printed and "built, not cached" in printed


def test_a_lock_without_a_pid_is_stale_only_when_old(data, tmp_path, fast, capsys):
    lock = tmp_path / ".out.lock"
    lock.write_text("")  # a run that died between creating the lock and writing its pid
    assert _run(data, tmp_path / "out") == 2  # could be a run starting right now
    assert "another run is writing" in capsys.readouterr().err
    old = time.time() - 3600
    os.utime(lock, (old, old))
    assert _run(data, tmp_path / "out") == 0


def test_a_run_killed_between_the_two_renames_gets_its_old_out_back(data, tmp_path, fast, monkeypatch):
    out = tmp_path / "out"
    assert _run(data, out) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    out.rename(tmp_path / ".out.old-999999-dead")  # OUT renamed aside, the new one never arrived

    def fails(ctx):
        raise RuntimeError("the next run fails too")

    monkeypatch.setattr(pipeline, "STEPS", [*fast[:2], ("fails", fails)])
    assert _run(data, out) == 1
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert _leftovers(out) == []
