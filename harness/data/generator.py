"""Deterministic synthetic records for a table's columns.

Every value of record number ``seq`` is drawn from a ``random.Random`` seeded from
``(seed, seq)``, so a record does not depend on what else the generator produced before
it: the same seed and columns give the same records in any process (for the pinned Faker
version), and interleaving :meth:`RecordGenerator.update` calls does not shift later
records. Text such as names, e-mails and cities is picked from pools of 500 values, each
made once per seed by a Faker instance seeded with ``seed_instance``; calling Faker per
value would cost ~150 µs each. Faker's class-level ``Faker.seed()`` (global state) is never
used, and neither are its date methods, which depend on today's date.

Values are JSON-ready (str, int, float, bool, list, dict), in the shapes Flink's ``json``
format reads with ``'json.timestamp-format.standard' = 'SQL'`` (its default):

* TIMESTAMP(p): ``'YYYY-MM-DD HH:MM:SS.sss'`` (min(p, 3) fraction digits; none for p = 0).
* TIMESTAMP_LTZ(p): the same in UTC followed by ``Z``, which that format requires.
* DATE: ``'YYYY-MM-DD'``; TIME(p): ``'HH:MM:SS'`` (+ fraction digits as above).
* DECIMAL(p, s): a float rounded to ``s`` places (an int when ``s`` is 0).
* BYTES/BINARY/VARBINARY: base64 text; MAP and MULTISET keys: text (JSON object keys).

Timestamps fall in 2024, and so do BIGINT columns named like times (``published_at``,
``event_ts``: epoch milliseconds). Text columns named like references (``ticker_id``) get
numeric text in 1..100000; override them to point at a parent table's ids.
Nullable columns are never null unless an override returns None.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import random
import re
import string
import threading
from collections.abc import Callable, Sequence
from typing import Any

from faker import Faker

from harness.data.schema import Column, DataType
from harness.errors import CutoverError

Record = dict[str, Any]
ValueFactory = Callable[[random.Random, int], Any]

STRING_TYPES = {"STRING", "VARCHAR", "CHAR"}
INT_RANGES = {"TINYINT": 100, "SMALLINT": 10_000, "INT": 1_000_000, "BIGINT": 10**12}
_FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL", "DECIMAL"}
_BYTES_TYPES = {"BYTES", "BINARY", "VARBINARY"}
_NESTED_TYPES = {"ARRAY", "MULTISET", "MAP", "ROW"}
_SCALAR_TYPES = (STRING_TYPES | set(INT_RANGES) | _FLOAT_TYPES | _BYTES_TYPES
                 | {"BOOLEAN", "TIMESTAMP", "TIMESTAMP_LTZ", "DATE", "TIME"})
_EPOCH = dt.datetime(2024, 1, 1)
_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z in epoch milliseconds
_EPOCH_MILLIS_WORDS = {"at", "ts", "time", "timestamp", "millis", "epoch"}
_UPDATE_ATTEMPTS = 10
POOL_SIZE = 500


class GeneratorError(CutoverError):
    """A generator cannot be built for the given columns, or a record cannot be updated."""


def _derive(seed: int, *parts: object) -> int:
    """A stable 64-bit seed from ``seed`` and ``parts`` (unlike ``hash``, equal across runs)."""
    text = "|".join(str(p) for p in (seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@functools.lru_cache(maxsize=1024)
def _words(name: str) -> frozenset[str]:
    """Lower-case words of a column name: ``userEmail`` and ``user_email`` → user, email."""
    return frozenset(w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name))


def _check_supported(data_type: DataType, name: str) -> None:
    if data_type.name not in _SCALAR_TYPES | _NESTED_TYPES:
        raise GeneratorError(
            f"no generator for type {data_type.name} of column {name!r}; pass "
            f"overrides={{{name!r}: lambda rng, seq: ...}} to supply its values")
    for child in data_type.children:
        _check_supported(child.data_type, f"{name}.{child.name}")


class RecordGenerator:
    """Records with unique ids and plausible, reproducible values for a list of columns.

    Args:
        columns: The columns to fill, e.g. from :func:`harness.data.columns_from_ddl`.
        key: The id column; ids are ``f"{id_prefix}{seq}"`` for a string column and ``seq``
            for an integer column, with ``seq`` counting from 1.
        seed: Seed of all randomness.
        id_prefix: Prefix of string ids, e.g. ``"blue-"`` to keep two writers apart.
        overrides: Value factories per column, called with the record's random generator
            and ``seq``; e.g. ``{"customer_id": lambda rng, seq: rng.randint(1, 100)}`` to
            reference the ids of a parent table.

    Raises:
        GeneratorError: The key or an override names no column, the key's type cannot hold
            ids, or a column has a type without a generator and no override.
    """

    def __init__(self, columns: Sequence[Column], *, key: str, seed: int, id_prefix: str = "",
                 overrides: dict[str, ValueFactory] | None = None) -> None:
        self.columns = list(columns)
        self.key, self.seed, self.id_prefix = key, seed, id_prefix
        self.overrides = dict(overrides or {})
        self._validate()
        self._seq = 0
        self._updates: dict[str, int] = {}
        self._lock = threading.Lock()

    def _validate(self) -> None:
        names = [c.name for c in self.columns]
        for name in [self.key, *self.overrides]:
            if name not in names:
                raise GeneratorError(f"no column {name!r}; columns are {', '.join(names)}")
        if self.key in self.overrides:
            raise GeneratorError(f"key column {self.key!r} cannot have an override; ids are "
                                 "generated (use id_prefix to set them apart)")
        key_type = next(c for c in self.columns if c.name == self.key).data_type.name
        if key_type not in STRING_TYPES | set(INT_RANGES):
            raise GeneratorError(f"key column {self.key!r} is {key_type}; choose a STRING or "
                                 "integer column as key")
        if self.id_prefix and key_type not in STRING_TYPES:
            raise GeneratorError(f"id_prefix needs a string key, but {self.key!r} is "
                                 f"{key_type}; drop id_prefix or use a STRING key")
        self._string_key = key_type in STRING_TYPES
        for column in self.columns:
            if column.name not in self.overrides and column.name != self.key:
                _check_supported(column.data_type, column.name)

    @property
    def next_id(self) -> str | int:
        """The id the next :meth:`record` will carry."""
        return self._id(self._seq + 1)

    def _id(self, seq: int) -> str | int:
        return f"{self.id_prefix}{seq}" if self._string_key else seq

    def _seq_of(self, key_value: object) -> int:
        text = str(key_value)
        digits = text[len(self.id_prefix):] if text.startswith(self.id_prefix) else ""
        if not digits.isdigit():
            raise GeneratorError(f"key {key_value!r} was not made by this generator "
                                 f"(ids look like {self._id(1)!r}); update its own records")
        return int(digits)

    def record(self) -> Record:
        """The next record, with a new unique id."""
        with self._lock:
            self._seq += 1
            return self._build(self._seq, "record")

    def records(self, n: int) -> list[Record]:
        """The next ``n`` records."""
        return [self.record() for _ in range(n)]

    def update(self, record: Record) -> Record:
        """A new version of ``record``: the same id, other values regenerated.

        The n-th update of an id is the same in every run. At least one non-key value
        differs from ``record``.

        Raises:
            GeneratorError: The record has no id of this generator, or no non-key value
                can change (e.g. the only other columns are constant overrides).
        """
        if self.key not in record:
            raise GeneratorError(f"record has no key column {self.key!r}: {record!r}")
        seq = self._seq_of(record[self.key])
        with self._lock:
            version = self._updates.get(str(record[self.key]), 0) + 1
            self._updates[str(record[self.key])] = version
            for attempt in range(_UPDATE_ATTEMPTS):
                new = self._build(seq, f"update:{version}:{attempt}")
                if any(new[k] != record.get(k) for k in new if k != self.key):
                    return new
        raise GeneratorError(f"update of {record[self.key]!r} changed no value after "
                             f"{_UPDATE_ATTEMPTS} tries; add a column or override that varies")

    def _build(self, seq: int, purpose: str) -> Record:
        rng = random.Random(_derive(self.seed, purpose, seq))
        record: Record = {}
        for column in self.columns:
            if column.name == self.key:
                record[column.name] = self._id(seq)
            elif column.name in self.overrides:
                record[column.name] = self.overrides[column.name](rng, seq)
            else:
                record[column.name] = self._value(column.data_type, column.name, rng)
        return record

    def _value(self, data_type: DataType, name: str, rng: random.Random) -> Any:
        kind = data_type.name
        if kind in STRING_TYPES:
            return self._string(name, data_type.params, rng)
        if kind in INT_RANGES:
            return _integer(name, kind, rng)
        if kind in _FLOAT_TYPES:
            return _number(name, data_type, rng)
        if kind == "BOOLEAN":
            return rng.random() < 0.5
        if kind in ("TIMESTAMP", "TIMESTAMP_LTZ", "DATE", "TIME"):
            return _temporal(data_type, rng)
        if kind in _BYTES_TYPES:
            return base64.b64encode(rng.randbytes(8)).decode()
        return self._nested(data_type, name, rng)

    def _string(self, name: str, params: tuple[int, ...], rng: random.Random) -> str:
        words = _words(name)
        if "id" in words:  # a reference, e.g. ticker_id: override it to join a parent
            text = str(rng.randint(1, 100_000))
        elif words & {"symbol", "ticker"}:
            text = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 5)))
        else:
            text = rng.choice(_faker_pool(self.seed, _text_kind(words)))
        return text[:params[0]] if params else text

    def _nested(self, data_type: DataType, name: str, rng: random.Random) -> Any:
        kind, children = data_type.name, data_type.children
        if kind == "ROW":
            return {c.name: self._value(c.data_type, c.name, rng) for c in children}
        count = rng.randint(1, 3)
        element = children[0].data_type
        if kind == "ARRAY":
            return [self._value(element, name, rng) for _ in range(count)]
        if kind == "MULTISET":
            return {_json_key(self._value(element, name, rng)): rng.randint(1, 3)
                    for _ in range(count)}
        value = children[1].data_type
        return {_json_key(self._value(element, name, rng)): self._value(value, name, rng)
                for _ in range(count)}


@functools.lru_cache(maxsize=256)
def _faker_pool(seed: int, kind: str) -> tuple[str, ...]:
    """Values of a Faker method from an instance seeded for this pool alone, made once.

    Cached across generators; a pool does not depend on which pools were made before.
    """
    fake = Faker()
    fake.seed_instance(_derive(seed, "pool", kind))
    if kind == "word":
        return tuple(fake.get_words_list())
    make = getattr(fake, kind)
    return tuple(str(make()) for _ in range(POOL_SIZE))


def _text_kind(words: frozenset[str]) -> str:
    """The Faker method whose values suit a text column with these name words."""
    for hint, kind in (("email", "email"), ("city", "city"), ("currency", "currency_code"),
                       ("username", "user_name")):
        if hint in words:
            return kind
    if "country" in words:
        return "country_code" if "code" in words else "country"
    if "name" in words:
        for hint, kind in (("first", "first_name"), ("last", "last_name"),
                           ("user", "user_name")):
            if hint in words:
                return kind
        return "name"
    return "word"


def _json_key(value: Any) -> str:
    """Map keys as JSON object keys, so a record equals its own JSON round trip."""
    return value if isinstance(value, str) else json.dumps(value)


def _integer(name: str, kind: str, rng: random.Random) -> int:
    words = _words(name)
    if kind == "BIGINT" and words & _EPOCH_MILLIS_WORDS:  # e.g. published_at, event_ts
        return _EPOCH_MS + rng.randrange(366 * 86_400_000)
    if words & {"quantity", "qty", "count"}:
        return rng.randint(1, 100)
    if words & {"price", "amount", "cost"}:
        return rng.randint(1, min(INT_RANGES[kind], 100_000))
    return rng.randint(0, INT_RANGES[kind])


def _number(name: str, data_type: DataType, rng: random.Random) -> float | int:
    """DOUBLE/FLOAT: 4 decimals; DECIMAL(p, s): ``s`` decimals, within ``p`` digits."""
    words = _words(name)
    scale, high = 4, 1000.0
    if data_type.name == "DECIMAL":
        precision, scale = (*data_type.params, 0)[:2] if data_type.params else (10, 0)
        high = min(high, 10.0 ** (precision - scale) - 10.0 ** -scale)
    if "score" in words:
        value = rng.uniform(-1.0, 1.0)
    elif words & {"price", "amount", "cost"}:
        value, scale = rng.uniform(min(1.0, high), high), min(scale, 2)
    else:
        value = rng.uniform(0.0, high)
    value = min(round(value, scale), high)  # rounding up must not overflow the precision
    return int(value) if scale == 0 else value


def _temporal(data_type: DataType, rng: random.Random) -> str:
    default_precision = 0 if data_type.name in ("TIME", "DATE") else 6
    digits = min((data_type.params or (default_precision,))[0], 3)
    moment = _EPOCH + dt.timedelta(seconds=rng.randrange(366 * 86400),
                                   milliseconds=rng.randrange(1000))
    fraction = f".{moment.microsecond // 1000:03d}"[:digits + 1] if digits else ""
    if data_type.name == "DATE":
        return moment.date().isoformat()
    if data_type.name == "TIME":
        return f"{moment:%H:%M:%S}{fraction}"
    suffix = "Z" if data_type.name == "TIMESTAMP_LTZ" else ""
    return f"{moment:%Y-%m-%d %H:%M:%S}{fraction}{suffix}"
