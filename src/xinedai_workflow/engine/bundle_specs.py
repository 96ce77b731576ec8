"""Specs rebuilt from a definition's files (process tests run each case on its own copy)."""

from __future__ import annotations

from .bundle import load_process_specs
from .instance import ProcessDefinition


def fresh_definition(definition: ProcessDefinition) -> ProcessDefinition:
    """The same version with specs parsed anew from its files."""
    spec, subprocess_specs = load_process_specs(definition.key, definition.files)
    return ProcessDefinition(
        definition.id, definition.key, definition.version, spec, subprocess_specs, definition.files
    )
