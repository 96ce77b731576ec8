"""Writing many new rows at once: multi-row INSERTs instead of the unit of work's per-object flush.

A batch of new cases adds about seven objects per case (case, task, subscription, history entries,
idempotency key). The unit of work spends most of a batch's database time on bookkeeping for them
(identity map, primary keys fetched back with RETURNING); these rows need none of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, insert, inspect
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from .base import Base


def _column_values(mapper: Mapper[Any], table: Table, obj: object) -> dict[str, Any]:
    state = obj.__dict__
    version_column = mapper.version_id_col
    row: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if prop.key in state:
            row[column.key] = state[prop.key]
        elif version_column is not None and column is version_column:
            row[column.key] = 1  # the unit of work's first version number
        elif isinstance(column.default, ScalarElementColumnDefault):
            row[column.key] = column.default.arg
        elif column is table.autoincrement_column:
            continue  # assigned by the database
        else:
            row[column.key] = None
    return row


def insert_new_in_bulk(session: Session, objects: Iterable[object] | None = None) -> int:
    """INSERT the session's pending NEW objects table by table (in foreign-key order) with one
    multi-row statement per table, then detach them. Their attributes stay readable; a later query
    loads the rows afresh. Only for plain rows: no relationships, no server-side defaults to read
    back, autoincrement keys left to the database. `objects`: only these (pending) ones. Returns how
    many rows were written."""
    pending = list(session.new) if objects is None else list(objects)
    if not pending:
        return 0
    rows: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for obj in pending:
        mapper = inspect(obj).mapper
        table = mapper.local_table
        if not isinstance(table, Table):
            raise TypeError(f"{type(obj).__name__} is not mapped to a plain table")
        rows[table].append(_column_values(mapper, table, obj))
    for obj in pending:
        session.expunge(obj)
    for table in Base.metadata.sorted_tables:
        if table in rows:
            table_rows = rows[table]
            # executemany needs one key set per statement; autoincrement ids are absent or all given
            by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for row in table_rows:
                by_keys[tuple(row)].append(row)
            for group in by_keys.values():
                # one row: a plain execute (executemany sets up a pipeline, costly for one row)
                session.execute(insert(table), group[0] if len(group) == 1 else group)
    return len(pending)
