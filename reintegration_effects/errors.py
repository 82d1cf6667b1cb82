"""Errors and warnings the package raises: bad input is reported, never a traceback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One problem with the input: where it is, what is wrong, and how to fix it.

    ``rows`` are 1-based data-row numbers in the file (the header is not counted), so a user can
    find them in a spreadsheet (add 1 for the header line).
    """

    file: str
    what: str
    fix: str
    column: str | None = None
    rows: Sequence[int] = field(default_factory=tuple)
    n_rows: int | None = None  # total rows affected (rows lists only the first few)

    def __str__(self) -> str:
        where = self.file + (f", column '{self.column}'" if self.column else "")
        if self.rows:
            shown = ", ".join(str(r) for r in list(self.rows)[:5])
            total = self.n_rows if self.n_rows is not None else len(self.rows)
            more = f" (and {total - 5} more)" if total > 5 else ""
            where += f", rows {shown}{more}"
        return f"{where}: {self.what}. Fix: {self.fix}"


class InputError(ValueError):
    """The input cannot be used; carries one :class:`Problem` per thing to fix."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} with the input:"
        super().__init__("\n".join([head] + [f"  - {p}" for p in self.problems]))


class DisclosureError(ValueError):
    """Output would break the statistical disclosure rules; names the failing cell."""


class StatisticalWarning(UserWarning):
    """A caveat about a result (few events, poor overlap, a failed proportional-hazards test)."""


class InsufficientDataError(ValueError):
    """Too few persons, spells or events to estimate something (a model, a curve, a cluster
    analysis, a programme's effects). The run skips that part, writes a line in the run log
    (:attr:`RunContext.notes`, kept in ``manifest.json``) and the report says why; anything else
    that goes wrong still raises.

    ``tables``: the output tables (names without ``.csv``) left out, or only partly written,
    because of it. :meth:`note` turns the error into that run-log line and :meth:`parse_note` reads
    it back (the report uses it to say why a table is missing).
    """

    PREFIX = "skipped"

    def __init__(self, message: str, *, tables: Sequence[str] = ()):
        super().__init__(message)
        self.tables = tuple(tables)

    @property
    def reason(self) -> str:
        return str(self.args[0]) if self.args else ""

    def note(self, tables: Sequence[str] | None = None) -> str:
        """The run-log line: ``skipped [t1, t2]: reason`` (``tables`` overrides :attr:`tables`)."""
        names = tuple(tables) if tables is not None else self.tables
        return f"{self.PREFIX} [{', '.join(names)}]: {self.reason}"

    @classmethod
    def parse_note(cls, line: str) -> tuple[tuple[str, ...], str] | None:
        """(tables, reason) of a run-log line written by :meth:`note`; None for any other line."""
        import re

        m = re.fullmatch(rf"{cls.PREFIX} \[([^\]]*)\]: (.*)", str(line), flags=re.DOTALL)
        if not m:
            return None
        return tuple(t.strip() for t in m.group(1).split(",") if t.strip()), m.group(2)
