"""Tables as columns, to and from Arrow without pandas.

A stored table (runs.parquet, timeseries.parquet, nations.parquet) is held in memory as
a mapping of column names to NumPy arrays (or lists of text). pyarrow's own conversions
(``pyarrow.array`` of an array or a list, ``Array.to_numpy``, ``pyarrow.parquet.read_table``)
first ask whether the object is a pandas one, and so import pandas, a quarter of a second
that ``ctsim run`` does not otherwise need; the functions here build and read the Arrow
buffers directly and never import it. :func:`arrow_table` gives the same table (types,
values, nulls, and so the same Parquet bytes) as ``pyarrow.table`` of the same columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

def arrow_array(values: np.ndarray | Sequence[Any]) -> pa.Array:
    """One column as an Arrow array, typed as ``pyarrow.array`` types it: a NumPy array
    of numbers or booleans by its dtype, of text as ``string``; a sequence (or an object
    array) of ``str`` as ``string``, of Python or NumPy whole numbers as int64, of
    numbers as float64, of booleans as bool, None standing for a missing value (a
    column of nothing but missing values has the null type).

    Raises:
        TypeError: values of another kind (dates, bytes, mixed text and numbers).
    """
    import pyarrow as pa

    if isinstance(values, np.ndarray) and values.dtype != object:
        kind = values.dtype.kind
        if kind == "b":
            return _with_validity(values.astype(bool), None)
        if kind in "iuf":
            return _with_validity(values, None)
        if kind == "U":
            return _text(values.tolist())
        raise TypeError(f"cannot store a column of dtype {values.dtype}")
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    present = [v for v in items if v is not None]
    if not present:
        return pa.nulls(len(items))
    if all(isinstance(v, str) for v in present):
        return _text(items)
    if all(isinstance(v, bool | np.bool_) for v in present):
        array = np.array([bool(v) for v in (False if v is None else v for v in items)])
    elif all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)
             for v in present):
        array = np.array([0 if v is None else v for v in items], np.int64)
    elif all(isinstance(v, int | float | np.integer | np.floating)
             and not isinstance(v, bool | np.bool_) for v in present):
        array = np.array([0.0 if v is None else v for v in items], np.float64)
    else:
        kinds = sorted({type(v).__name__ for v in present})
        raise TypeError(f"cannot store a column of {', '.join(kinds)}")
    valid = np.array([v is not None for v in items]) if len(present) < len(items) else None
    return _with_validity(array, valid)


def _arrow_type(dtype: np.dtype) -> pa.DataType:
    """The Arrow type of a NumPy number or boolean dtype."""
    import pyarrow as pa

    if dtype.kind == "b":
        return pa.bool_()
    if dtype.kind == "f":
        return {2: pa.float16(), 4: pa.float32(), 8: pa.float64()}[dtype.itemsize]
    signed = {1: pa.int8(), 2: pa.int16(), 4: pa.int32(), 8: pa.int64()}
    unsigned = {1: pa.uint8(), 2: pa.uint16(), 4: pa.uint32(), 8: pa.uint64()}
    return (signed if dtype.kind == "i" else unsigned)[dtype.itemsize]


def _numpy_type(kind: pa.DataType) -> np.dtype:
    """The NumPy dtype of an Arrow integer or floating-point type."""
    import pyarrow as pa

    letter = "f" if pa.types.is_floating(kind) else (
        "i" if pa.types.is_signed_integer(kind) else "u")
    return np.dtype(f"{letter}{kind.bit_width // 8}")


def _with_validity(array: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """``array`` (numbers or booleans, native byte order) as an Arrow array, the entries
    where ``valid`` is False null (None: none is)."""
    import pyarrow as pa

    bits = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    if array.dtype.kind == "b":
        data = pa.py_buffer(np.packbits(array, bitorder="little"))
    else:
        data = pa.py_buffer(np.ascontiguousarray(array.astype(array.dtype.newbyteorder("="))))
    return pa.Array.from_buffers(_arrow_type(array.dtype), len(array), [bits, data])


def _text(items: list) -> pa.Array:
    """A ``string`` array of ``items`` (str, or None for a missing value)."""
    import pyarrow as pa

    encoded = [b"" if v is None else v.encode() for v in items]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    valid = None
    if any(v is None for v in items):
        valid = pa.py_buffer(np.packbits([v is not None for v in items], bitorder="little"))
    return pa.Array.from_buffers(pa.string(), len(items),
                                 [valid, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def arrow_table(columns: Mapping[str, Any]) -> pa.Table:
    """The Arrow table of ``columns`` (name to values, all of one length; an Arrow array
    passes as it is): what ``pyarrow.table(columns)`` gives, without pandas."""
    import pyarrow as pa

    arrays = [v if isinstance(v, pa.Array | pa.ChunkedArray) else arrow_array(v)
              for v in columns.values()]
    return pa.Table.from_arrays(arrays, names=list(columns))


def numpy_column(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow column as a NumPy array: numbers by their type (a column with missing
    numbers as float64, NaN where missing), booleans as bool, anything else (text) as an
    object array (None where missing). Numbers without missing values are read from the
    Arrow buffer (a read-only view when the column is one chunk)."""
    import pyarrow as pa

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [_numpy_chunk(c) for c in chunks]
    if len(parts) == 1:
        return parts[0]
    if not parts:
        kind = column.type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        return np.zeros(0, _numpy_type(kind) if numeric else object)
    return np.concatenate(parts)


def _numpy_chunk(chunk: pa.Array) -> np.ndarray:
    """One chunk of a column as :func:`numpy_column` gives it."""
    import pyarrow as pa

    kind = chunk.type
    n, offset = len(chunk), chunk.offset
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        dtype = _numpy_type(kind)
        data = np.frombuffer(chunk.buffers()[1], dtype, count=offset + n)[offset:]
        if chunk.null_count:
            valid = _bits(chunk.buffers()[0], offset, n)
            return np.where(valid, data.astype(np.float64), np.nan)
        return data
    if pa.types.is_boolean(kind) and not chunk.null_count:
        return _bits(chunk.buffers()[1], offset, n)
    values = np.empty(n, object)
    values[:] = chunk.to_pylist()
    return values


def _bits(buffer: pa.Buffer, offset: int, n: int) -> np.ndarray:
    """Bits ``offset`` to ``offset + n - 1`` of an Arrow bitmap, as booleans."""
    bits = np.unpackbits(np.frombuffer(buffer, np.uint8), bitorder="little")
    return bits[offset:offset + n].astype(bool)


def numpy_columns(table: pa.Table) -> dict[str, np.ndarray]:
    """Every column of an Arrow table as a NumPy array (:func:`numpy_column`), by name."""
    return {name: numpy_column(table.column(name)) for name in table.column_names}
