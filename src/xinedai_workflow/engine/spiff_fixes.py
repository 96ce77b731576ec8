"""Fixes of SpiffWorkflow 3.2 defects the diagrams run into (applied on import, like engine_time).

Data objects referenced from a subprocess nested two or more levels below the process that
declares them: the parser's lookup steps to the *direct* parent again and again instead of walking
up (``current = self.process_parser.parent``), so parsing such a diagram never ends. The runtime
lookup (``DataObject.get``/``set``) already walks up correctly; only the parser needs the fix.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.node_parser import NodeParser


def _resolve_data_object_ref(self: Any, ref: Any) -> Any:
    if ref is None:
        return None
    current = self.process_parser
    while current is not None:
        data_object = current.spec.data_objects.get(ref.get("dataObjectRef"))
        if data_object is not None:
            return data_object
        current = getattr(current, "parent", None)
    return None


NodeParser._resolve_data_object_ref = _resolve_data_object_ref
