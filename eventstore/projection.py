"""Projection tables and the two stores projectors write through.

A projector is a function ``(store, event) -> None`` that reads and writes projection rows only
through the store. ``DBStore`` writes the live tables inside ``append``'s transaction;
``MemoryStore`` holds rows in dicts so replay can rebuild a chat and write it in bulk. The same
handler code runs in both, which is what makes replay equal live state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, ClassVar

from django.apps import apps
from django.db import IntegrityError, connection, connections, models
from django.db.models import Q

from eventstore.records import EventRecord
from eventstore.signals import event_appended

# Bump when a projector changes meaning: snapshots made under another version are ignored.
# 2: provenance (who witnessed each source of derived text), sealing sentence by sentence.
# 3: edges and group nodes belong to characters, not seats; the chat's cast (worlds.cast).
# 4: each source's words (worlds.lexicon), for the gate's word check; which line a turn is a
#    version of (an edit, a continue).
PROJECTION_VERSION = 4


def project(store: Any, record: EventRecord) -> None:
    """Hand one event to every app's projectors (live inside append's transaction, or
    during replay into a MemoryStore)."""
    event_appended.send(sender=EventRecord, event=record, store=store)


class Projection(models.Model):
    """Base of every projection table: rows of one stream, identified by a natural key.

    A concrete table keys its rows by the stream they belong to through a foreign key to
    ``eventstore.Stream`` that the domain names as it likes; ``stream_key`` is that field's
    column attribute (e.g. ``"chat_id"``).
    """

    stream_key: ClassVar[str]

    natural_key_fields: ClassVar[tuple[str, ...]] = ()
    # Fields MemoryStore keeps an index on, for filters that run often during replay.
    index_fields: ClassVar[tuple[str, ...]] = ()
    # Tables whose primary key is derived from event ids keep it across replays.
    stable_pk: ClassVar[bool] = False
    # With a stable key: how many rows one event may write (the key is event * this + n).
    ids_per_event: ClassVar[int] = 1
    # Fields holding ids of events ("a.*.b": inside JSON, "*" any key, lists item by item):
    # a branch that copies events renumbers them, and a diff reads them through the copies.
    event_refs: ClassVar[tuple[str, ...]] = ()
    # Fields a diff of two states does not compare (a row's place on its branch).
    diff_ignores: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True


def _preparer(field, conn):
    """A fast path for the column types projections use; anything else goes through Django."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        return lambda v: None if v is None else json.dumps(v)  # as Django writes it
    if kind == "BooleanField":
        return lambda v: None if v is None else int(v)
    if kind in (
        "CharField",
        "TextField",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "ForeignKey",
    ):
        return lambda v: v
    return lambda v: field.get_db_prep_save(v, conn)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def mentions(text: str, needles: list[str]) -> bool:
    """Case-insensitive for ASCII letters only: exactly what SQLite's LIKE does."""
    lowered = text.translate(_ASCII_LOWER)
    return any(n and n.translate(_ASCII_LOWER) in lowered for n in needles)


def projection_models() -> list[type[Projection]]:
    found = [m for m in apps.get_models() if issubclass(m, Projection)]
    return sorted(found, key=lambda m: m._meta.label)


def _key(model: type[Projection], values: dict[str, Any] | Projection) -> tuple:
    if isinstance(values, dict):
        return tuple(values[f] for f in model.natural_key_fields)
    return tuple(getattr(values, f) for f in model.natural_key_fields)


def row_of(obj: Projection) -> dict[str, Any]:
    """A row as plain JSON-ready values (the snapshot and diff format)."""
    row = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key and not obj.stable_pk:
            continue
        row[field.attname] = field.value_from_object(obj)
    return row


_SELECTS: dict[type, tuple[str, list[str]]] = {}


def _select(model, connection) -> tuple[str, list[str]]:
    if model not in _SELECTS:
        fields = model._meta.concrete_fields
        _SELECTS[model] = (
            f"SELECT {', '.join(connection.ops.quote_name(f.column) for f in fields)} "
            f"FROM {connection.ops.quote_name(model._meta.db_table)}",
            [f.attname for f in fields],
        )
    return _SELECTS[model]


def dump_rows(model: type[Projection], stream_id: int, *, using: str = "default") -> list[dict]:
    """One stream's rows of a projection table as ``row_of`` gives them, read with plain SQL
    (a snapshot of a big stream reads every memory: the ORM spent seconds building objects)."""
    conn = connections[using]
    select, names = _select(model, conn)
    converters = _converters(model)
    keep = [
        n for n, f in enumerate(model._meta.concrete_fields) if model.stable_pk or not f.primary_key
    ]
    with conn.cursor() as cursor:
        cursor.execute(f"{select} WHERE {model.stream_key} = %s", [stream_id])
        rows = cursor.fetchall()
    kept = [names[n] for n in keep]
    # only JSON and boolean columns need converting: the rest go into the dicts as read
    convert = [(names[n], n, converters[n]) for n in keep if converters[n] is not _as_read]
    out = []
    for row in rows:
        values = dict(zip(kept, [row[n] for n in keep], strict=True))
        for name, n, conv in convert:
            values[name] = conv(row[n])
        out.append(values)
    return out


def read_rows(model: type[Projection], where: str, params: list, *, order: str = "id") -> list:
    """Rows of a projection table as model instances, from plain SQL: for the reads every turn
    makes, where compiling an ORM query costs more than running it. ``where`` names columns
    and takes %s parameters."""
    select, names = _select(model, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"{select} WHERE {where} ORDER BY {order}", params)
        rows = cursor.fetchall()
    converters = _converters(model)
    return [
        model.from_db(connection.alias, names, [c(v) for c, v in zip(converters, row, strict=True)])
        for row in rows
    ]


_CONVERTERS: dict[type, list] = {}
_PLAIN = {
    "AutoField",
    "BigAutoField",
    "CharField",
    "TextField",
    "IntegerField",
    "BigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "ForeignKey",
}


def _as_read(value):
    return value


def _converters(model) -> list:
    """What the ORM would do to each column's raw value (JSON text → objects, 0/1 → bool)."""
    if model not in _CONVERTERS:
        out = []
        for field in model._meta.concrete_fields:
            kind = field.get_internal_type()
            if kind == "JSONField":
                out.append(lambda v: None if v is None else json.loads(v))
            elif kind == "BooleanField":
                out.append(lambda v: None if v is None else bool(v))
            elif kind in _PLAIN:
                out.append(_as_read)
            else:
                raise TypeError(f"read_rows does not convert {kind} ({model.__name__})")
        _CONVERTERS[model] = out
    return _CONVERTERS[model]


class RowReader:
    """A read-only store over ``read_rows``: the store's ``get``/``filter`` for the lookups a
    prompt build makes every turn (keys are column names)."""

    def get(self, model: type[Projection], **key: Any) -> Projection | None:
        return next(iter(self.filter(model, **key)), None)

    def filter(self, model: type[Projection], **eq: Any) -> list[Projection]:
        where = " AND ".join(f"{connection.ops.quote_name(k)} = %s" for k in eq) or "1 = 1"
        return read_rows(model, where, list(eq.values()))


class DBStore:
    def __init__(self, using: str = "default") -> None:
        self.using = using

    def get(self, model: type[Projection], **key: Any) -> Projection | None:
        return model.objects.using(self.using).filter(**key).first()

    def filter(self, model: type[Projection], **eq: Any) -> list[Projection]:
        return list(model.objects.using(self.using).filter(**eq).order_by("pk"))

    def add(self, obj: Projection) -> None:
        obj.save(using=self.using, force_insert=True)

    def save(self, obj: Projection) -> None:
        obj.save(using=self.using)

    def delete(self, obj: Projection) -> None:
        type(obj).objects.using(self.using).filter(pk=obj.pk).delete()

    def filter_mentioning(
        self, model: type[Projection], field: str, needles: list[str], **eq: Any
    ) -> list[Projection]:
        """Rows whose ``field`` contains any of ``needles`` (case-insensitive)."""
        if not needles:
            return []
        mention = Q()
        for needle in needles:
            mention |= Q(**{f"{field}__icontains": needle})
        rows = model.objects.using(self.using).filter(mention, **eq).order_by("pk")
        # the same test as MemoryStore's, so live and replay agree exactly
        return [o for o in rows if mentions(getattr(o, field), needles)]


class MemoryStore:
    def __init__(self) -> None:
        self.rows: dict[type[Projection], dict[tuple, Projection]] = {}
        self._order = 0
        # model -> field -> value -> {natural key: row}; and the values each row is filed under
        self._index: dict[type[Projection], dict[str, dict[Any, dict[tuple, Projection]]]] = {}
        self._filed: dict[type[Projection], dict[tuple, tuple]] = {}

    def _table(self, model: type[Projection]) -> dict[tuple, Projection]:
        return self.rows.setdefault(model, {})

    def get(self, model: type[Projection], **key: Any) -> Projection | None:
        table = self._table(model)
        if set(key) == set(model.natural_key_fields):
            return table.get(_key(model, key))
        if set(key) in ({"pk"}, {"id"}) and model.stable_pk:
            return table.get((key.get("pk", key.get("id")),))
        return next(iter(self.filter(model, **key)), None)

    def filter(self, model: type[Projection], **eq: Any) -> list[Projection]:
        candidates: Iterable[Projection] = self._table(model).values()
        indexed = [f for f in model.index_fields if f in eq]
        if indexed:
            index = self._index.get(model, {})
            buckets = [index.get(f, {}).get(eq[f], {}) for f in indexed]
            candidates = min(buckets, key=len).values()
        items = [o for o in candidates if all(getattr(o, k) == v for k, v in eq.items())]
        if model.stable_pk:
            items.sort(key=lambda o: o.pk)
        else:
            items.sort(key=lambda o: o._memory_order)
        return items

    def filter_mentioning(
        self, model: type[Projection], field: str, needles: list[str], **eq: Any
    ) -> list[Projection]:
        return [o for o in self.filter(model, **eq) if mentions(getattr(o, field), needles)]

    def add(self, obj: Projection) -> None:
        model = type(obj)
        table = self._table(model)
        key = _key(model, obj)
        if key in table:
            raise IntegrityError(f"duplicate {model._meta.label} {key}")
        if not model.stable_pk:
            obj.pk = None
        # Insertion order stands in for an autoincrement column's order.
        self._order += 1
        obj._memory_order = self._order
        table[key] = obj
        self._file(model, key, obj)

    def save(self, obj: Projection) -> None:
        """Rows are held by reference; a save re-files the row in the indexes."""
        model = type(obj)
        if model.index_fields:
            self._file(model, _key(model, obj), obj)

    def delete(self, obj: Projection) -> None:
        model = type(obj)
        key = _key(model, obj)
        self._table(model).pop(key, None)
        self._unfile(model, key)

    def _file(self, model: type[Projection], key: tuple, obj: Projection) -> None:
        if not model.index_fields:
            return
        values = tuple(getattr(obj, f) for f in model.index_fields)
        filed = self._filed.setdefault(model, {})
        if filed.get(key) == values:
            return
        self._unfile(model, key)
        index = self._index.setdefault(model, {})
        for field, value in zip(model.index_fields, values, strict=True):
            index.setdefault(field, {}).setdefault(value, {})[key] = obj
        filed[key] = values

    def _unfile(self, model: type[Projection], key: tuple) -> None:
        old = self._filed.get(model, {}).pop(key, None)
        if old is None:
            return
        index = self._index[model]
        for field, value in zip(model.index_fields, old, strict=True):
            index[field].get(value, {}).pop(key, None)

    # -- snapshot and bulk write ---------------------------------------------------------

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        return {
            model._meta.label: [row_of(o) for o in self._table(model).values()]
            for model in projection_models()
        }

    def load(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        for label, rows in tables.items():
            model = apps.get_model(label)
            for row in rows:
                self.add(model(**row))

    def write(self, stream_id: int, *, using: str = "default") -> None:
        """Make one stream's projection rows in ``using`` equal to this store's rows.

        Tables keyed by event ids (turns, memories) are compared row by row and only what
        differs is written: a replay of an unchanged chat writes nothing, a branch switch
        rewrites only the rows after the fork, and untouched memories keep their FTS entries
        and vectors. The small tables are replaced whole, in the store's insertion order.
        Rows go in with one prepared statement per table (executemany): the ORM's bulk_create
        spends most of a replay compiling SQL per row.
        """
        conn = connections[using]
        for model in projection_models():
            objs: Iterable[Projection] = self._table(model).values()
            if not model.stable_pk:
                objs = sorted(objs, key=lambda o: o._memory_order)
            fields = [
                f for f in model._meta.concrete_fields if model.stable_pk or not f.primary_key
            ]
            prep = [_preparer(f, conn) for f in fields]
            names = [f.attname for f in fields]
            rows = [tuple(p(getattr(o, n)) for p, n in zip(prep, names, strict=True)) for o in objs]
            table = conn.ops.quote_name(model._meta.db_table)
            columns = [conn.ops.quote_name(f.column) for f in fields]
            if model.stable_pk:
                _write_changed(conn, table, columns, fields, rows, model.stream_key, stream_id)
                continue
            model.objects.using(using).filter(**{model.stream_key: stream_id}).delete()
            if rows:
                with conn.cursor() as cur:
                    cur.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) "
                        f"VALUES ({', '.join(['%s'] * len(columns))})",
                        rows,
                    )


def _write_changed(conn, table: str, columns, fields, rows: list[tuple], key: str, stream_id):
    """Delete, update and insert only the rows of a stable-key table that differ."""
    pk = next(n for n, f in enumerate(fields) if f.primary_key)
    key_col = next(c for c, f in zip(columns, fields, strict=True) if f.attname == key)
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {key_col} = %s", [stream_id])
        live = {row[pk]: tuple(row) for row in cur.fetchall()}
        wanted = {row[pk]: row for row in rows}
        gone = [key for key in live if key not in wanted]
        for start in range(0, len(gone), 500):
            part = gone[start : start + 500]
            cur.execute(
                f"DELETE FROM {table} WHERE {columns[pk]} IN ({', '.join(['%s'] * len(part))})",
                part,
            )
        changed = [row for key, row in wanted.items() if key in live and live[key] != row]
        if changed:
            sets = ", ".join(f"{c} = %s" for n, c in enumerate(columns) if n != pk)
            cur.executemany(
                f"UPDATE {table} SET {sets} WHERE {columns[pk]} = %s",
                [(*(v for n, v in enumerate(row) if n != pk), row[pk]) for row in changed],
            )
        new = [row for key, row in wanted.items() if key not in live]
        if new:
            cur.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                new,
            )


def dump_db(stream_id: int, *, using: str = "default") -> dict[str, list[dict[str, Any]]]:
    """Every projection row of one stream, in a stable order: the snapshot and diff format."""
    return {
        model._meta.label: _sorted_rows(model, dump_rows(model, stream_id, using=using))
        for model in projection_models()
    }


def _sorted_rows(model, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if model.stable_pk:
        return sorted(rows, key=lambda r: r["id"])
    return sorted(rows, key=lambda r: tuple(str(r[f]) for f in model.natural_key_fields))
