"""Problems found in a deployment bundle, reported all at once with file, line and element."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle (an error refuses the deploy; a warning does not)."""

    file: str | None
    line: int | None
    element_id: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class BundleInvalid(Exception):
    """The bundle has errors; `problems` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the bundle")
        self.problems = problems
