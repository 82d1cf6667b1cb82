"""The run's output folder: the manifest, the atomic write and lock, and ``verify``.

``manifest.json`` says what went in (file hashes, settings, seed), with which software (the git
revision when the package runs from a checkout, else its version), and the SHA-256 of every other
file in the folder. It is written last, with ``status: complete``, into a temporary folder beside
OUT that replaces OUT in one rename (:class:`RunFolder`); a lock file beside OUT keeps two runs
out of one folder. :func:`verify` recomputes the hashes.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from .dataset import StudySettings
from .io import file_sha256

#: Packages whose versions can change a number in the output.
TRACKED_PACKAGES = (
    "reintegration_effects", "numpy", "pandas", "pyarrow", "scipy", "pandera", "pyreadstat",
    "statsmodels", "scikit-learn", "lifelines", "econml", "linearmodels", "matplotlib", "plotly",
    "nbconvert", "typst", "pypandoc_binary",
)


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class RunError(ValueError):
    """A setting or a folder stops the run before it starts (exit status 2): what is wrong and the fix."""

    def __init__(self, what: str, fix: str):
        self.what, self.fix = what, fix
        super().__init__(f"{what}\nFix: {fix}")


class RunLockedError(RunError):
    """Another run is writing into the same output folder."""


MANIFEST = "manifest.json"
#: ``status`` of a manifest whose hashes cover every file of a finished run.
COMPLETE = "complete"


def git_revision() -> dict[str, object] | None:
    """``{"commit": sha, "dirty": bool}`` when the package runs from a git checkout, else None."""
    here = Path(__file__).resolve().parent
    if not (here.parent / ".git").exists():
        return None
    try:
        def git(*args):
            return subprocess.run(["git", *args], cwd=here.parent, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "reintegration_effects"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def software() -> dict[str, object]:
    """What made the outputs: the package version and, from a checkout, the git revision."""
    try:
        version = metadata.version("reintegration_effects")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"package_version": version, "git": git_revision()}


def folder_files(folder: str | Path) -> list[Path]:
    """Every file under ``folder`` except ``manifest.json`` itself, sorted."""
    folder = Path(folder)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST)


def _jsonable(value):
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def write_manifest(
    out: str | Path,
    *,
    inputs: dict[str, Path],
    study: StudySettings,
    seed: int,
    window: tuple[pd.Timestamp, pd.Timestamp],
    started: pd.Timestamp,
    finished: pd.Timestamp,
    command: list[str],
    outputs: list[Path] | None = None,
    extra: dict | None = None,
    status: str = COMPLETE,
    shown_as: Path | None = None,
) -> Path:
    """Write ``OUT/manifest.json``: input hashes, package versions, seed, settings, run time.

    ``outputs`` (default: every file in ``out``) are listed with their SHA-256, so two runs can be
    compared byte for byte and :func:`verify` can check the folder. ``shown_as``: the folder
    ``out`` will be moved to (paths inside ``out`` are recorded as paths inside it).
    """
    out = Path(out)
    outputs = folder_files(out) if outputs is None else outputs

    def shown(p):
        p = Path(p)
        if shown_as is not None and p.is_relative_to(out):
            return Path(shown_as) / p.relative_to(out)
        return p

    manifest = {
        "package": "reintegration_effects",
        "status": status,
        "software": software(),
        "command": command,
        "seed": seed,
        "window": {"start": _jsonable(window[0]), "end": _jsonable(window[1])},
        "settings": _jsonable(asdict(study)),
        "inputs": {name: {"file": str(shown(p)), "sha256": file_sha256(p), "bytes": Path(p).stat().st_size}
                   for name, p in sorted(inputs.items())},
        "outputs": {Path(p).relative_to(out).as_posix(): file_sha256(p) for p in sorted(outputs)},
        "versions": package_versions(),
        "run": {
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "seconds": round((finished - started).total_seconds(), 1),
        },
    }
    if extra:
        manifest.update(_jsonable(extra))
    path = out / MANIFEST
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_manifest(out: str | Path) -> dict:
    """The ``manifest.json`` of a finished run in ``out``; :class:`RunError` (exit 2, with the fix) when
    ``out`` is not a folder, has no readable manifest, or holds an unfinished run."""
    out = Path(out)
    if not out.is_dir():
        what = "does not exist" if not out.exists() else "is a file, not a folder"
        raise RunError(f"{out} {what}: it is not the output folder of a run",
                       "pass the output folder of a finished `reintegration-effects run` (it holds manifest.json)")
    path = out / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("outputs"), dict):
            raise ValueError("no 'outputs' listing the files")
    except FileNotFoundError:
        raise RunError(f"{out} has no {MANIFEST}: it is not the output folder of a finished run",
                       f"run `reintegration-effects run --out {out}` first (or pass the folder that run wrote)"
                       ) from None
    except (OSError, ValueError) as e:
        raise RunError(f"{path} cannot be read ({type(e).__name__}: {e})",
                       f"run `reintegration-effects run --out {out}` again") from None
    if manifest.get("status") != COMPLETE:
        raise RunError(f"{path} has status {manifest.get('status')!r}, not {COMPLETE!r}: the run did not finish",
                       f"run `reintegration-effects run --out {out}` again")
    return manifest


def rewrite_manifest(folder: str | Path, manifest: dict) -> Path:
    """Write ``manifest`` (a run's, with changes) into ``folder`` with the SHA-256 of the files there now.

    For a folder whose files changed after the run (``reintegration-effects render``): every other
    key is kept as given; ``outputs`` is recomputed over every file, so :func:`verify` holds again.
    Written to a temporary file and renamed, as :func:`write_manifest` does.
    """
    folder = Path(folder)
    manifest = dict(manifest)
    manifest["outputs"] = {p.relative_to(folder).as_posix(): file_sha256(p) for p in folder_files(folder)}
    path = folder / MANIFEST
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(_jsonable(manifest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# ------------------------------------------------------------------------------------------------
# verify
# ------------------------------------------------------------------------------------------------


@dataclass
class Verification:
    """What :func:`verify` found: files whose hash differs, listed but absent, present but unlisted."""

    folder: Path
    status: str | None = None
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return self.status == COMPLETE and not (self.changed or self.missing or self.extra)


def verify(out: str | Path) -> Verification:
    """Recompute the SHA-256 of every file in ``out`` and compare with its ``manifest.json``.

    Raises :class:`RunError` when there is no readable manifest to compare with.
    """
    out = Path(out)
    path = out / MANIFEST
    if not out.is_dir():
        raise RunError(f"{out} is not a folder", "pass the output folder of a run (the one holding manifest.json)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        listed = dict(manifest["outputs"])
    except FileNotFoundError:
        raise RunError(f"{out} has no {MANIFEST}: it is not the output of a finished run",
                       "run `reintegration-effects run` again into this folder") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RunError(f"{path} cannot be read ({type(e).__name__}: {e})",
                       "run `reintegration-effects run` again into this folder") from None
    result = Verification(folder=out, status=manifest.get("status"))
    present = {p.relative_to(out).as_posix(): p for p in folder_files(out)}
    for name, digest in sorted(listed.items()):
        if name not in present:
            result.missing.append(name)
        else:
            result.checked += 1
            if file_sha256(present[name]) != digest:
                result.changed.append(name)
    result.extra = sorted(set(present) - set(listed))
    return result


# ------------------------------------------------------------------------------------------------
# The atomic run folder and its lock
# ------------------------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a process of another user counts)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        try:
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return False
    return True


def _remove_tree(path: Path) -> None:
    """rmtree that also removes read-only entries; what cannot be removed stays (no error)."""
    def retry(func, p, _exc):
        try:
            os.chmod(p, 0o700)
            os.chmod(os.path.dirname(p), 0o700)
            func(p)
        except OSError:
            pass

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onexc=retry) if sys.version_info >= (3, 12) else shutil.rmtree(path, onerror=retry)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


class RunFolder:
    """Write a run into a temporary folder beside ``out`` and move it into place at the end.

    ``with RunFolder(out) as rf:`` takes the lock ``.<name>.lock`` beside ``out`` (the pid, host
    and start time of the run in it), makes ``rf.work`` (``.<name>.tmp-<pid>-<random>``, the same
    file system as ``out``); :meth:`commit` renames ``out`` aside, renames the work folder to
    ``out`` and removes the old one, so ``out`` is always a whole earlier run or a whole new one.
    Leaving the block without :meth:`commit` (an error, Ctrl-C) removes the work folder; the lock
    is always released. A lock whose process has died (same host) is taken over; temporary
    folders of dead runs are removed once the lock is held.

    ``out`` must be absent, empty, or the output of an earlier run (it holds ``manifest.json``):
    the run replaces the whole folder, so a folder of other files is refused.

    ``stop_requested``: a callable that says whether the user asked to stop (the command line's
    Ctrl-C); :meth:`commit` then raises KeyboardInterrupt instead of moving the work into place, so an
    interrupt that a library swallowed (a bare ``except:``) still stops the run.
    """

    def __init__(self, out: str | Path, *, stale_seconds: float = 60.0,
                 stop_requested: Callable[[], bool] | None = None):
        self.stop_requested = stop_requested
        self.out = Path(out).absolute()
        self.parent = self.out.parent
        self.name = self.out.name
        self.lock = self.parent / f".{self.name}.lock"
        self.work: Path | None = None
        self.committed = False
        self.stale_seconds = stale_seconds
        self._locked = False

    # -- checks ---------------------------------------------------------------------------------

    def raise_if_stop_requested(self) -> None:
        """KeyboardInterrupt when ``stop_requested`` says the user asked to stop (see the class)."""
        if self.stop_requested is not None and self.stop_requested():
            raise KeyboardInterrupt("stop requested")

    def check(self) -> None:
        """Refuse an ``out`` that the run must not replace (a file, a folder of other files, read-only)."""
        out = self.out
        if out.exists() and not out.is_dir():
            raise RunError(f"--out {out} is a file, not a folder",
                           "pass a folder for the outputs (new, empty, or from an earlier run)")
        for p in (out, *out.parents):  # the first ancestor that exists must be a folder
            if p.exists():
                if not p.is_dir():
                    raise RunError(f"--out {out}: {p} is a file, so no folder can be made under it",
                                   "choose an output folder whose parent folders are folders")
                break
        if out.is_dir():
            entries = [e.name for e in out.iterdir()]
            if entries and MANIFEST not in entries:
                shown = ", ".join(sorted(entries)[:5]) + (" ..." if len(entries) > 5 else "")
                raise RunError(
                    f"--out {out} holds files that no earlier run wrote ({shown}); a run replaces its "
                    "output folder as a whole",
                    "choose a new or empty folder (or remove these files)")
            if not os.access(out, os.W_OK | os.X_OK):
                raise RunError(f"--out {out} is read-only", "make it writable (chmod u+w) or choose another --out")

    # -- lock -----------------------------------------------------------------------------------

    def _read_lock(self) -> dict | None:
        try:
            return json.loads(self.lock.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _lock_is_stale(self) -> bool:
        info = self._read_lock()
        if not isinstance(info, dict) or "pid" not in info:
            try:  # written a moment ago and not yet filled in, or garbage left by a crash
                return time.time() - self.lock.stat().st_mtime > self.stale_seconds
            except FileNotFoundError:
                return True
        if info.get("host") != socket.gethostname():
            return False  # cannot look at another machine's processes
        return not _pid_alive(int(info.get("pid", -1)))

    def acquire(self) -> None:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunError(f"cannot make the folder {self.parent} ({e.strerror})",
                           "choose an --out in a folder you can write to") from None
        if not os.access(self.parent, os.W_OK | os.X_OK):
            raise RunError(f"cannot write in {self.parent}, where the run writes beside --out {self.out} "
                           "(a temporary folder and a lock file)",
                           "choose an --out in a folder you can write to, or ask for write access")
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "command": sys.argv}
        for _ in range(3):
            try:
                fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._lock_is_stale():
                    self.lock.unlink(missing_ok=True)
                    continue
                held = self._read_lock() or {}
                raise RunLockedError(
                    f"another run is writing into {self.out} (pid {held.get('pid', '?')} on "
                    f"{held.get('host', '?')}, started {held.get('started', '?')}; lock file {self.lock})",
                    "wait until it has finished, or choose another --out; if no run is going on "
                    f"(e.g. the machine was restarted), delete {self.lock}") from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(info, fh)
            self._locked = True
            return
        raise RunLockedError(f"could not take the lock {self.lock}", f"delete {self.lock} and run again")

    def release(self) -> None:
        if self._locked:
            info = self._read_lock()
            if isinstance(info, dict) and info.get("pid") == os.getpid():
                self.lock.unlink(missing_ok=True)
            self._locked = False

    # -- work folder ----------------------------------------------------------------------------

    def _leftovers(self) -> list[Path]:
        return sorted(p for pat in (f".{self.name}.tmp-*", f".{self.name}.old-*") for p in self.parent.glob(pat))

    def _clean_leftovers(self) -> None:
        """With the lock held, no other run uses these: folders of runs that were killed."""
        for p in self._leftovers():
            if not self.out.exists() and p.name.startswith(f".{self.name}.old-") and (p / MANIFEST).exists():
                p.rename(self.out)  # killed between the two renames of commit: put the old run back
                continue
            _remove_tree(p)

    def __enter__(self) -> RunFolder:
        self.check()
        self.acquire()
        try:
            self._clean_leftovers()
            self.work = self.parent / f".{self.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            self.work.mkdir()
        except BaseException:
            self.release()
            raise
        return self

    def start_from(self, source: str | Path, *, leave_out: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Fill the work folder with the files of ``source`` (an earlier run), but ``manifest.json`` and
        the relative paths in ``leave_out``; returns the paths copied.

        Files are hard-linked (the same file system, no copy of the data), else copied. A linked file
        is shared with ``source`` until :meth:`commit`: replace it (write a new file, then
        ``os.replace``) rather than writing into it. The files to be rewritten go in ``leave_out``.
        """
        assert self.work is not None and not self.committed
        source = Path(source)
        copied = []
        for p in folder_files(source):
            rel = p.relative_to(source).as_posix()
            if rel in leave_out:
                continue
            target = self.work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(p, target)
            except OSError:  # a file system without hard links (or across devices): copy
                shutil.copy2(p, target)
            copied.append(rel)
        return copied

    def commit(self) -> Path:
        """Move the work folder into place as ``out`` (the previous ``out`` is removed)."""
        assert self.work is not None and not self.committed
        self.raise_if_stop_requested()
        self.check()  # nothing has appeared in its place since the start
        old = None
        if self.out.exists():
            old = self.parent / f".{self.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(self.out, old)
        try:
            os.rename(self.work, self.out)
        except BaseException:
            if old is not None:
                os.rename(old, self.out)
            raise
        self.committed = True
        if old is not None:
            _remove_tree(old)
        return self.out

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if not self.committed and self.work is not None:
                _remove_tree(self.work)
        finally:
            self.release()


def is_disk_full(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
