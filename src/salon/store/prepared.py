"""A Core statement compiled once per dialect and sent to the driver as plain SQL.

`Connection.execute` on a Core construct computes the statement's cache key, looks the
compiled form up and builds its parameters on every call: on the add-participant path
that cost more than SQLite took to run the INSERT. A `Prepared` statement does that work
once per dialect; each call only orders the values and applies the columns' own bind
processors (`TypeEngine.bind_processor`), so the driver receives exactly what SQLAlchemy
would have sent it.

Only for statements whose parameters are all plain `bindparam`s with a type.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, CursorResult, Dialect
from sqlalchemy.sql import Executable


@dataclass(frozen=True)
class _Compiled:
    sql: str
    steps: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # (name, bind processor)


class Prepared:
    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> CursorResult[Any]:
        compiled = self._for(connection.dialect)
        parameters = tuple(values[name] if process is None else process(values[name])
                           for name, process in compiled.steps)
        return connection.exec_driver_sql(compiled.sql, parameters)

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            if not compiled.positional:
                raise TypeError(f"{dialect.name} does not take positional parameters")
            binds = {bind.key: bind for bind in compiled.binds.values()}
            steps = tuple((name, binds[name].type.bind_processor(dialect))
                          for name in compiled.positiontup)
            found = self._by_dialect[dialect.name] = _Compiled(compiled.string, steps)
        return found
