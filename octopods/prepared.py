"""Queries on the hot paths, compiled by the ORM once and run with new values.

Building a statement costs the ORM more CPU than PostgreSQL spends running a simple
one (about 0.5 ms against 0.1 ms on the project's machine), and the webhook and the
relay run the same few shapes thousands of times a second. A ``Prepared`` query is
written as an ordinary queryset over placeholder values; the first call compiles it
for the database at hand, and every later call runs that SQL with its own values and
turns rows into model instances with the ORM's own converters (a decrypted field is
decrypted, JSON is parsed). Only plain SELECTs of one model's own columns qualify: no
select_related, annotations or deferred fields.
"""

import threading
from collections.abc import Callable

from django.db import connections
from django.db.models import Model, QuerySet

_STRING = "\x00prepared-{}\x00"
_INTEGER = 2**62


def _placeholder(kind: type, n: int):
    if kind is int:
        return _INTEGER + n
    if kind is str:
        return _STRING.format(n)
    raise TypeError(f"no placeholder for {kind.__name__} values")


class Prepared:
    """``build(*placeholders)`` returns the queryset; ``kinds`` are its values' types
    (int or str), in the order the values are given at each call."""

    def __init__(self, build: Callable[..., QuerySet], *kinds: type):
        self.build, self.kinds = build, kinds
        self._compiled: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def _compile(self, using: str):
        placeholders = [_placeholder(kind, n) for n, kind in enumerate(self.kinds)]
        queryset = self.build(*placeholders).using(using)
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        try:
            order = [placeholders.index(param) for param in params]
        except ValueError:
            raise RuntimeError(
                f"{queryset.model.__name__}: every value of a prepared query must be one "
                "of its placeholders"
            ) from None
        columns = [column for column, _, _ in compiler.select]
        if len(columns) != len(queryset.model._meta.concrete_fields):
            raise RuntimeError(f"{queryset.model.__name__}: only the model's own columns")
        converters = compiler.get_converters(columns)
        names = [column.target.attname for column in columns]
        return queryset.model, sql, order, converters, names, compiler

    def all(self, *values, using: str = "default") -> list[Model]:
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(using, self._compile(using))
        model, sql, order, converters, names, compiler = compiled
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [values[n] for n in order])
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [model.from_db(using, names, row) for row in rows]

    def first(self, *values, using: str = "default") -> Model | None:
        found = self.all(*values, using=using)
        return found[0] if found else None
