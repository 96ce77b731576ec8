"""Parsed specs of deployed versions, cached per (key, version): versions never change."""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy.orm import Session

from ..db.models import ProcessVersion
from ..engine import ProcessDefinition, load_process_specs
from ..errors import NotFound
from . import repository


class DefinitionRegistry:
    """Hands out `ProcessDefinition`s by version id, parsing each version at most once per process."""

    def __init__(self, max_entries: int = 256) -> None:
        self._cache: OrderedDict[int, ProcessDefinition] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, session: Session, process_version_id: int) -> ProcessDefinition:
        with self._lock:
            cached = self._cache.get(process_version_id)
            if cached is not None:
                self._cache.move_to_end(process_version_id)
                return cached
        row = session.get(ProcessVersion, process_version_id)
        if row is None:
            raise NotFound(f"process version {process_version_id} does not exist")
        files = repository.version_files(session, row.id)
        spec, subprocess_specs = load_process_specs(row.key, files)
        definition = ProcessDefinition(row.id, row.key, row.version, spec, subprocess_specs, files)
        self.put(definition)
        return definition

    def put(self, definition: ProcessDefinition) -> None:
        with self._lock:
            self._cache[definition.id] = definition
            self._cache.move_to_end(definition.id)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)

    def latest(self, session: Session, key: str) -> ProcessDefinition:
        version_id = repository.latest_version_id(session, key)
        if version_id is None:
            raise NotFound(f"no process with key {key!r} is deployed", code="unknown_process")
        return self.get(session, version_id)

    def version(self, session: Session, key: str, version: int) -> ProcessDefinition:
        """A given version of `key` (NotFound when it is not deployed)."""
        row = repository.get_version(session, key, version)
        if row is None:
            raise NotFound(f"{key} version {version} is not deployed", code="unknown_version")
        return self.get(session, row.id)
