"""Build hook: ship the report's chapter notebooks as package data.

The notebooks live in ``analyses/`` (the cookiecutter place: thin notebooks that only call the
package), outside the package folder, so setuptools' ``package-data`` cannot list them. This hook
copies ``analyses/*.py`` into ``reintegration_effects/notebooks/`` of every built wheel, so a
non-editable install (``pip install .``) makes the full report. An editable install reads them from
``analyses/`` directly. Everything else is declared in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ANALYSES = Path(__file__).resolve().parent / "analyses"


class BuildPyWithNotebooks(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads analyses/ in the source tree
            return
        notebooks = sorted(ANALYSES.glob("[0-9][0-9]_*.py"))
        if not notebooks:
            raise FileNotFoundError(f"no report notebooks in {ANALYSES}: build from the source tree or the sdist")
        target = Path(self.build_lib) / "reintegration_effects" / "notebooks"
        self.mkpath(str(target))
        for nb in notebooks:
            self.copy_file(str(nb), str(target / nb.name))


setup(cmdclass={"build_py": BuildPyWithNotebooks})
