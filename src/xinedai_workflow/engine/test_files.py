"""Which bundle files are process tests (spiff-arena's ``test_<diagram>.json``)."""

from __future__ import annotations

import posixpath


def is_test_file(name: str) -> bool:
    """A spiff-arena BPMN unit-test file: ``test_<diagram>.json``."""
    return posixpath.basename(name).startswith("test_") and name.endswith(".json")
