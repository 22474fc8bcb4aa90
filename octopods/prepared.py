"""Queries on the hot paths, compiled by the ORM once and run with new values.

Building a statement costs the ORM more CPU than PostgreSQL spends running a simple
one (about 0.5 ms against 0.1 ms on the project's machine), and the webhook and the
relay run the same few shapes thousands of times a second. A ``Prepared`` query is
written as an ordinary queryset over placeholder values; the first call compiles it
for the database at hand, and every later call runs that SQL with its own values and
turns rows into model instances with the ORM's own converters (a decrypted field is
decrypted, JSON is parsed), related objects from select_related() and annotations
set as the ORM sets them — through the same machinery (Django's RelatedPopulator, an
internal API: Django is pinned to 6.1 in pyproject.toml, and the tests compare every
shape used here with what the queryset itself gives).
"""

import threading
from collections.abc import Callable
from functools import cache

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, _get_from_db, get_related_populators

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
        select, klass_info = compiler.select, compiler.klass_info
        converters = compiler.get_converters([column for column, _, _ in select])
        if klass_info is None or queryset._iterable_class is not ModelIterable:
            # values_list(): rows stay tuples
            return sql, order, compiler, converters, None, None, None, None, None
        fields = klass_info["select_fields"]
        own = slice(fields[0], fields[-1] + 1)
        init = [column.target.attname for column, _, _ in select[own]]
        mode = queryset._fetch_mode
        return (
            sql,
            order,
            compiler,
            converters,
            _get_from_db(klass_info["model"], mode),
            own,
            init,
            get_related_populators(klass_info, select, using, mode),
            dict(compiler.annotation_col_map or {}),
        )

    def _rows(self, values, using: str):
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(using, self._compile(using))
        sql, order, compiler, converters = compiled[:4]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [values[n] for n in order])
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return compiled, rows

    def values(self, *values, using: str = "default") -> list[tuple]:
        """The rows of a values_list() query, as tuples."""
        _, rows = self._rows(values, using)
        return [tuple(row) for row in rows]

    def all(self, *values, using: str = "default") -> list[Model]:
        compiled, rows = self._rows(values, using)
        *_, from_db, own, init, populators, annotations = compiled
        if from_db is None:
            raise TypeError("a values_list() query: use values()")
        found = []
        for row in rows:
            obj = from_db(using, init, row[own])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def first(self, *values, using: str = "default") -> Model | None:
        found = self.all(*values, using=using)
        return found[0] if found else None


class _Quoted:
    """In a written statement: the model's table, and its columns as attributes."""

    def __init__(self, model, quote):
        self._model, self._quote = model, quote

    def __format__(self, spec) -> str:
        return self._quote(self._model._meta.db_table)

    def __getattr__(self, attname: str) -> str:
        if attname == "pk":
            return self._quote(self._model._meta.pk.column)
        return self._quote(self._model._meta.get_field(attname).column)


@cache
def _written(template: str, vendor: str, names: tuple) -> str:
    quote = connections["default"].ops.quote_name
    return " ".join(template.split()).format(
        **{key: _Quoted(value, quote) if isinstance(value, type) else value for key, value in names}
    )


def write(template: str, params: list, **names) -> bool:
    """Run a statement written out once (an UPDATE on a hot path) with ``params``; True
    if it changed one row. In ``template``, ``{name}`` is the table of the model given as
    ``name`` and ``{name.attname}`` one of its columns, quoted for the database; other
    names are put in as they are. Values go as parameters, prepared with ``value()``."""
    connection = connections["default"]
    sql = _written(template, connection.vendor, tuple(sorted(names.items())))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def value(model, attname: str, value):
    """``value`` as the field ``attname`` of ``model`` sends it to the database."""
    return model._meta.get_field(attname).get_db_prep_value(value, connections["default"])
