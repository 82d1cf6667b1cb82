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
