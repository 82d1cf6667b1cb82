"""The run manifest: what went in (file hashes, settings, seed) and with which software."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict
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
    outputs: list[Path] = (),
    extra: dict | None = None,
) -> Path:
    """Write ``OUT/manifest.json``: input hashes, package versions, seed, settings, run time.

    Output tables are listed with their hashes too, so two runs can be compared byte for byte.
    """
    out = Path(out)
    manifest = {
        "package": "reintegration_effects",
        "command": command,
        "seed": seed,
        "window": {"start": _jsonable(window[0]), "end": _jsonable(window[1])},
        "settings": _jsonable(asdict(study)),
        "inputs": {name: {"file": str(p), "sha256": file_sha256(p), "bytes": Path(p).stat().st_size}
                   for name, p in sorted(inputs.items())},
        "outputs": {str(Path(p).relative_to(out)): file_sha256(p) for p in sorted(outputs)},
        "versions": package_versions(),
        "run": {
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "seconds": round((finished - started).total_seconds(), 1),
        },
    }
    if extra:
        manifest.update(_jsonable(extra))
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
