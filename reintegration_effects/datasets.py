"""Ready-made data sets: the simulated municipality, loaded through the real input path."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .dataset import DEFAULT_SEED, InputData


@dataclass
class Truth:
    """What the simulation was generated with (never part of the input folder).

    ``effects``: contract effects columns with method "truth" (ATT per programme, group and
    outcome). ``hazard_ratios``: programme, group, phase, hazard_ratio. ``individual``: one row
    per programme start with actual and counterfactual outcomes.
    """

    effects: pd.DataFrame
    hazard_ratios: pd.DataFrame
    individual: pd.DataFrame
    params: dict = field(default_factory=dict)

    @classmethod
    def load(cls, folder: str | Path) -> Truth:
        folder = Path(folder)
        return cls(
            effects=pd.read_csv(folder / "true_effects.csv"),
            hazard_ratios=pd.read_csv(folder / "true_hazard_ratios.csv"),
            individual=pd.read_parquet(folder / "individual_effects.parquet"),
            params=json.loads((folder / "params.json").read_text()),
        )


def load_simulated(n_persons: int | None = None, *, seed: int = DEFAULT_SEED, folder: str | Path | None = None,
                   fmt: str = "csv", **kwargs) -> tuple[InputData, Truth]:
    """Simulate a municipality, write it as an input folder, and load it like user data.

    Going through files and validation (rather than handing over the simulator's frames) means
    every analysis tested on it is tested on the same path real data takes. ``kwargs`` go to
    :func:`reintegration_effects.simulate.simulate_municipality` (e.g. ``effects="constant"``).
    """
    from .simulate import simulate_municipality, write_simulation
    from .validate import load_input

    if n_persons is not None:
        kwargs["n_persons"] = n_persons
    sim = simulate_municipality(seed=seed, **kwargs)
    tmp = None
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="reintegration_sim_")
        folder = Path(tmp.name) / "input"
    data_dir, truth_dir = write_simulation(sim, Path(folder), fmt=fmt)
    data = load_input(data_dir)
    truth = Truth.load(truth_dir)
    if tmp is not None:
        tmp.cleanup()
    return data, truth
