"""Binary score files (.npy, .npz, .pt, parquet list columns) and score arrays given from Python.

Every input here is written by a ``@maker`` function, so the repository holds no blobs: the
decompression bomb declares terabytes in a file of a few kilobytes.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy_format

from blocks_rx.errors import ScoresError
from blocks_rx.scores import load_scores

from bad_inputs.corpus import Case
from bad_inputs.make_corpus import good_scores, maker

HAS_TORCH = importlib.util.find_spec("torch") is not None
NEEDS_TORCH = (pytest.mark.skipif(not HAS_TORCH, reason="torch not installed"),)
HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None
NEEDS_PYARROW = (pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow not installed"),)
#: The shape the bomb and the lying archive declare: 8 TB of float64, more than any machine.
HUGE = (10_000_000, 100_000)
NAMES = ["ant", "bee", "cat", "dog", "eel", "fox"]
LABELS = np.arange(60) % 6


class Opaque:
    """An arbitrary Python object: what ``weights_only`` must refuse to unpickle."""


def _torch():
    if not HAS_TORCH:
        return None
    import torch

    return torch


def _npy_header(shape, dtype) -> bytes:
    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(buffer, {"descr": npy_format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


# --------------------------------------------------------------------------- .npy makers


@maker("empty.npy")
def _empty_npy(path: Path) -> None:
    path.write_bytes(b"")


@maker("truncated.npy")
def _truncated_npy(path: Path) -> None:
    path.write_bytes(_npy_bytes(good_scores())[:-100])


@maker("garbage.npy")
def _garbage_npy(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 4)


@maker("objects.npy")
def _objects_npy(path: Path) -> None:
    np.save(path, good_scores().astype(object), allow_pickle=True)


@maker("vector.npy")
def _vector_npy(path: Path) -> None:
    np.save(path, good_scores()[:, 0])


@maker("cube.npy")
def _cube_npy(path: Path) -> None:
    np.save(path, np.zeros((4, 5, 6), dtype=np.float32))


@maker("complex.npy")
def _complex_npy(path: Path) -> None:
    np.save(path, good_scores().astype(np.complex128))


@maker("strings.npy")
def _strings_npy(path: Path) -> None:
    np.save(path, good_scores().astype(str))


@maker("dates.npy")
def _dates_npy(path: Path) -> None:
    np.save(path, np.arange(360).reshape(60, 6).astype("datetime64[D]"))


@maker("half.npy")
def _half_npy(path: Path) -> None:
    np.save(path, good_scores().astype(np.float16))


# --------------------------------------------------------------------------- .npz makers


@maker("truncated.npz")
def _truncated_npz(path: Path) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, scores=good_scores())
    path.write_bytes(buffer.getvalue()[:-200])


@maker("not_a_zip.npz")
def _not_a_zip_npz(path: Path) -> None:
    path.write_text("scores,for,every,class\n1,2,3,4\n")


@maker("no_arrays.npz")
def _no_arrays_npz(path: Path) -> None:
    np.savez(path)


@maker("unnamed.npz")
def _unnamed_npz(path: Path) -> None:
    np.savez(path, good_scores(seed=1), good_scores(seed=2))


@maker("named.npz")
def _named_npz(path: Path) -> None:
    np.savez(path, scores=good_scores(), classes=np.array(NAMES), labels=LABELS)


@maker("short_classes.npz")
def _short_classes_npz(path: Path) -> None:
    np.savez(path, scores=good_scores(), classes=np.array(["ant", "bee"]))


@maker("square_classes.npz")
def _square_classes_npz(path: Path) -> None:
    np.savez(path, scores=good_scores(), classes=np.array(NAMES).reshape(2, 3))


@maker("object_scores.npz")
def _object_scores_npz(path: Path) -> None:
    np.savez(path, scores=good_scores().astype(object))


@maker("object_classes.npz")
def _object_classes_npz(path: Path) -> None:
    np.savez(path, scores=good_scores(), classes=np.array(NAMES, dtype=object))


@maker("bad_crc.npz")
def _bad_crc_npz(path: Path) -> None:
    np.savez(path, scores=good_scores())  # stored, not compressed: data bytes as they are
    data = bytearray(path.read_bytes())
    at = data.index(_npy_bytes(good_scores())[-64:])
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@maker("bomb.npz")
def _bomb_npz(path: Path) -> None:
    """A member whose header and zip directory agree on 8 TB; the file is a few KB."""
    header = _npy_header(HUGE, np.float64)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("scores.npy", header + bytes(2**16))
        archive.getinfo("scores.npy").file_size = len(header) + 8 * HUGE[0] * HUGE[1]


@maker("lying.npz")
def _lying_npz(path: Path) -> None:
    """A member whose header declares 8 TB while the zip directory says 64 KB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("scores.npy", _npy_header(HUGE, np.float64) + bytes(2**16))


# --------------------------------------------------------------------------- .pt makers


@maker("empty.pt")
def _empty_pt(path: Path) -> None:
    path.write_bytes(b"")


@maker("garbage.pt")
def _garbage_pt(path: Path) -> None:
    path.write_bytes(b"these are not tensors\n" * 10)


@maker("pickled.pt")
def _pickled_pt(path: Path) -> None:
    path.write_bytes(pickle.dumps({"scores": Opaque()}, protocol=2))


@maker("with_object.pt")
def _with_object_pt(path: Path) -> None:
    if torch := _torch():
        torch.save({"scores": torch.from_numpy(good_scores()), "model": Opaque()}, path)


@maker("truncated.pt")
def _truncated_pt(path: Path) -> None:
    if torch := _torch():
        buffer = io.BytesIO()
        torch.save({"scores": torch.from_numpy(good_scores())}, buffer)
        path.write_bytes(buffer.getvalue()[:-300])


@maker("no_tensor.pt")
def _no_tensor_pt(path: Path) -> None:
    if torch := _torch():
        torch.save({"epoch": 3, "classes": NAMES}, path)


@maker("sparse.pt")
def _sparse_pt(path: Path) -> None:
    if torch := _torch():
        torch.save({"scores": torch.from_numpy(good_scores()).to_sparse()}, path)


@maker("sparse_huge.pt")
def _sparse_huge_pt(path: Path) -> None:
    """Three stored values in a 1,000,000 x 100,000 matrix: 400 GB dense."""
    if torch := _torch():
        indices = torch.tensor([[0, 1, 2], [0, 1, 2]])
        sparse = torch.sparse_coo_tensor(indices, torch.ones(3), (1_000_000, 100_000),
                                         check_invariants=True)
        torch.save({"scores": sparse}, path)


@maker("int_classes.pt")
def _int_classes_pt(path: Path) -> None:
    if torch := _torch():
        torch.save({"scores": torch.from_numpy(good_scores()), "classes": torch.arange(6)}, path)


@maker("named.pt")
def _named_pt(path: Path) -> None:
    if torch := _torch():
        torch.save({"logits": torch.from_numpy(good_scores()), "classes": NAMES,
                    "labels": torch.from_numpy(LABELS)}, path)


@maker("named.pth")
def _named_pth(path: Path) -> None:
    if torch := _torch():
        torch.save(torch.from_numpy(good_scores()), path)


@maker("bad_labels.pt")
def _bad_labels_pt(path: Path) -> None:
    if torch := _torch():
        torch.save({"scores": torch.from_numpy(good_scores()),
                    "targets": torch.full((60,), 9)}, path)


@maker("bfloat16.pt")
def _bfloat16_pt(path: Path) -> None:
    if torch := _torch():
        torch.save(torch.from_numpy(good_scores()).to(torch.bfloat16), path)


# --------------------------------------------------------------------------- .parquet list makers


def _list_table(rows, **columns):
    """A table with a ``logits`` column of lists (``rows``), an ``id`` and a ``label``."""
    import pyarrow as pa

    return pa.table({"id": np.arange(len(rows)), "logits": rows,
                     "label": LABELS[: len(rows)], **columns})


def _write_list_table(path: Path, rows, **columns) -> None:
    if not HAS_PYARROW:
        return
    import pyarrow.parquet as pq

    pq.write_table(_list_table(rows, **columns), path)


def _rows():
    return [[float(x) for x in row] for row in good_scores()]


@maker("list_logits.parquet")
def _list_logits(path: Path) -> None:
    _write_list_table(path, _rows())


@maker("list_ragged.parquet")
def _list_ragged(path: Path) -> None:
    rows = _rows()
    rows[17] = rows[17][:4]
    _write_list_table(path, rows)


@maker("list_null_cell.parquet")
def _list_null_cell(path: Path) -> None:
    rows = _rows()
    rows[23] = None
    _write_list_table(path, rows)


@maker("list_null_value.parquet")
def _list_null_value(path: Path) -> None:
    rows = _rows()
    rows[31][5] = None
    _write_list_table(path, rows)


@maker("list_text.parquet")
def _list_text(path: Path) -> None:
    _write_list_table(path, [[f"c{j}" for j in range(6)] for _ in range(60)])


@maker("list_two_columns.parquet")
def _list_two_columns(path: Path) -> None:
    _write_list_table(path, _rows(), embedding=_rows())


# --------------------------------------------------------------------------- checks


def _similarity_of(expected, classes=None):
    """A check that the result's similarity is Pearson's r of ``expected`` (and its classes)."""

    def check(out: Path) -> None:
        stored = np.load(out / "similarity.npz")
        np.testing.assert_allclose(stored["matrix"], np.corrcoef(expected, rowvar=False),
                                   atol=1e-5)
        if classes is not None:
            assert list(stored["classes"]) == list(classes)

    return check


def _scores_equal(expected, classes=None, labels=None, kind=None):
    """A check that a loaded :class:`Scores` holds ``expected`` as a plain float array."""

    def check(scores) -> None:
        assert type(scores.values) in (np.ndarray, np.memmap), type(scores.values)
        np.testing.assert_allclose(np.asarray(scores.values), expected, rtol=1e-6)
        if classes is not None:
            assert scores.classes == tuple(classes)
        if labels is not None:
            np.testing.assert_array_equal(scores.labels, labels)
        if kind is not None:
            assert isinstance(scores.values, kind)

    return check


def _masked(rows=(), cols=()):
    values = np.ma.masked_array(good_scores(), mask=False)
    values[list(rows), list(cols)] = np.ma.masked
    return values


def _labels_with(row, value):
    labels = LABELS.astype(np.float64)
    labels[row] = value
    return labels


def _sparse_tensor():
    import torch

    return torch.from_numpy(good_scores()).to_sparse()


def _cli(name, *extra):
    return ("analyze", f"{{made}}/{name}", "--out", "{out}", *extra)


# --------------------------------------------------------------------------- cases


NPY = [
    Case("npy/empty", _cli("empty.npy"), error=ScoresError,
         mentions=("{made}/empty.npy", "empty file")),
    Case("npy/truncated", _cli("truncated.npy"), error=ScoresError,
         mentions=("{made}/truncated.npy", "truncated", "(60, 6) float32")),
    Case("npy/garbage", _cli("garbage.npy"), error=ScoresError,
         mentions=("{made}/garbage.npy", "not a .npy file")),
    Case("npy/object-dtype", _cli("objects.npy"), error=ScoresError,
         mentions=("{made}/objects.npy", "Python objects", "does not load")),
    Case("npy/one-dimensional", _cli("vector.npy"), error=ScoresError,
         mentions=("{made}/vector.npy", "2-D", "(60,)")),
    Case("npy/three-dimensional", _cli("cube.npy"), error=ScoresError,
         mentions=("{made}/cube.npy", "2-D", "(4, 5, 6)")),
    Case("npy/complex", _cli("complex.npy"), error=ScoresError,
         mentions=("{made}/complex.npy", "complex128")),
    Case("npy/strings", _cli("strings.npy"), error=ScoresError,
         mentions=("{made}/strings.npy", "<U", "text")),
    Case("npy/datetime", _cli("dates.npy"), error=ScoresError,
         mentions=("{made}/dates.npy", "datetime64[D]")),
    Case("npy/float16", _cli("half.npy"), warns="float16",
         check=_similarity_of(good_scores().astype(np.float16).astype(np.float64))),
]

NPZ = [
    Case("npz/truncated", _cli("truncated.npz"), error=ScoresError,
         mentions=("{made}/truncated.npz", "truncated or damaged")),
    Case("npz/not-a-zip", _cli("not_a_zip.npz"), error=ScoresError,
         mentions=("{made}/not_a_zip.npz", "not an .npz archive")),
    Case("npz/empty-archive", _cli("no_arrays.npz"), error=ScoresError,
         mentions=("{made}/no_arrays.npz", "no arrays")),
    Case("npz/unnamed-arrays", _cli("unnamed.npz"), error=ScoresError,
         mentions=("{made}/unnamed.npz", "unnamed", "arr_0, arr_1", "--key")),
    Case("npz/unnamed-arrays-with-key", _cli("unnamed.npz", "--key", "arr_1"),
         check=_similarity_of(good_scores(seed=2))),
    Case("npz/missing-key", _cli("named.npz", "--key", "logits"), error=ScoresError,
         mentions=("{made}/named.npz", "no array named 'logits'", "scores, classes, labels")),
    Case("npz/scores-classes-labels", _cli("named.npz"),
         check=_similarity_of(good_scores(), classes=NAMES)),
    Case("npz/classes-wrong-length", _cli("short_classes.npz"), error=ScoresError,
         mentions=("{made}/short_classes.npz", "2 stored class names", "6 score columns")),
    Case("npz/classes-two-dimensional", _cli("square_classes.npz"), error=ScoresError,
         mentions=("{made}/square_classes.npz", "array 'classes'", "(2, 3)")),
    Case("npz/object-scores", _cli("object_scores.npz"), error=ScoresError,
         mentions=("{made}/object_scores.npz", "array 'scores'", "Python objects")),
    Case("npz/object-classes", _cli("object_classes.npz"), error=ScoresError,
         mentions=("{made}/object_classes.npz", "array 'classes'", "Python objects")),
    Case("npz/bad-crc", _cli("bad_crc.npz"), error=ScoresError,
         mentions=("{made}/bad_crc.npz", "array 'scores'", "damaged", "CRC")),
    Case("npz/decompression-bomb", _cli("bomb.npz"), error=ScoresError,
         mentions=("{made}/bomb.npz", "array 'scores'", "(10000000, 100000) float64",
                   "8.0 TB", "available")),
    Case("npz/header-disagrees-with-zip", _cli("lying.npz"), error=ScoresError,
         mentions=("{made}/lying.npz", "array 'scores'", "(10000000, 100000)", "disagree")),
]

PT = [
    Case("pt/empty", _cli("empty.pt"), error=ScoresError,
         mentions=("{made}/empty.pt", "empty file"), marks=NEEDS_TORCH),
    Case("pt/garbage", _cli("garbage.pt"), error=ScoresError,
         mentions=("{made}/garbage.pt", "not a torch file"), marks=NEEDS_TORCH),
    Case("pt/pickled-object", _cli("pickled.pt"), error=ScoresError,
         mentions=("{made}/pickled.pt", "Python objects other than tensors", "does not load"),
         marks=NEEDS_TORCH),
    Case("pt/object-beside-tensor", _cli("with_object.pt"), error=ScoresError,
         mentions=("{made}/with_object.pt", "Python objects other than tensors", "Opaque"),
         marks=NEEDS_TORCH),
    Case("pt/truncated", _cli("truncated.pt"), error=ScoresError,
         mentions=("{made}/truncated.pt", "truncated or damaged"), marks=NEEDS_TORCH),
    Case("pt/dict-without-tensor", _cli("no_tensor.pt"), error=ScoresError,
         mentions=("{made}/no_tensor.pt", "without any tensor", "epoch, classes"),
         marks=NEEDS_TORCH),
    Case("pt/sparse-small", call=lambda files, made: load_scores(made / "sparse.pt"),
         check=_scores_equal(good_scores()), marks=NEEDS_TORCH),
    Case("pt/sparse-huge", _cli("sparse_huge.pt"), error=ScoresError,
         mentions=("{made}/sparse_huge.pt", "key 'scores'", "sparse", "400.0 GB"),
         marks=NEEDS_TORCH),
    Case("pt/int-classes", call=lambda files, made: load_scores(made / "int_classes.pt"),
         check=_scores_equal(good_scores(), classes=[str(j) for j in range(6)]),
         marks=NEEDS_TORCH),
    Case("pt/str-classes-and-label-tensor",
         call=lambda files, made: load_scores(made / "named.pt"),
         check=_scores_equal(good_scores(), classes=NAMES, labels=LABELS), marks=NEEDS_TORCH),
    Case("pt/pth-suffix", call=lambda files, made: load_scores(made / "named.pth"),
         check=_scores_equal(good_scores()), marks=NEEDS_TORCH),
    Case("pt/stored-labels-out-of-range", _cli("bad_labels.pt"), error=ScoresError,
         mentions=("{made}/bad_labels.pt", "stored labels", "row 0", "class index 9"),
         marks=NEEDS_TORCH),
    Case("pt/bfloat16", call=lambda files, made: load_scores(made / "bfloat16.pt"),
         check=lambda s: np.testing.assert_allclose(s.values, good_scores(), rtol=1e-2,
                                                    atol=1e-2), marks=NEEDS_TORCH),
]

API = [
    Case("api/load-labels-huge", error=ScoresError, mentions=("labels", "row 1", "1e+30"),
         call=lambda files, made: load_scores(good_scores(), labels=_labels_with(1, 1e30))),
    Case("api/load-labels-huge-negative", error=ScoresError, mentions=("labels", "row 3", "-1e+30"),
         call=lambda files, made: load_scores(good_scores(), labels=_labels_with(3, -1e30))),
    Case("api/load-labels-bool", error=ScoresError, mentions=("labels", "dtype bool"),
         call=lambda files, made: load_scores(good_scores(), labels=LABELS % 2 == 0)),
    Case("api/load-labels-unknown-names", error=ScoresError, mentions=("labels", "row 0", "'yak'"),
         call=lambda files, made: load_scores(good_scores(), classes=NAMES,
                                              labels=np.array(["yak"] + NAMES * 9 + NAMES[:5]))),
    Case("api/load-labels-ragged", error=ScoresError, mentions=("labels", "one label per row"),
         call=lambda files, made: load_scores(good_scores(), labels=[[0, 1]] * 59 + [[0]])),
    Case("api/load-masked-cells", error=ScoresError,
         mentions=("<array>", "2 masked", "row 4, column 2", "'cat'"),
         call=lambda files, made: load_scores(_masked((7, 4), (1, 2)), classes=NAMES)),
    Case("api/load-masked-array-without-masked-cells",
         call=lambda files, made: load_scores(_masked()),
         check=_scores_equal(good_scores(), kind=np.ndarray)),
    Case("api/load-string-array", error=ScoresError, mentions=("<array>", "dtype <U", "text"),
         call=lambda files, made: load_scores(np.array([["a", "b"], ["c", "d"]]))),
    Case("api/load-object-array", error=ScoresError, mentions=("<array>", "dtype object"),
         call=lambda files, made: load_scores(good_scores().astype(object))),
    Case("api/load-probabilities-memory-mapped", warns="probabilities range over",
         call=lambda files, made: load_scores(made / "good.npy", kind="probabilities"),
         check=_scores_equal(good_scores(), kind=np.memmap)),
    Case("api/load-sparse-tensor", marks=NEEDS_TORCH,
         call=lambda files, made: load_scores(_sparse_tensor()),
         check=_scores_equal(good_scores())),
]

PARQUET_LISTS = [
    Case("parquet/list-column", _cli("list_logits.parquet"),
         check=_similarity_of(good_scores(), classes=[f"class_{j}" for j in range(6)]),
         marks=NEEDS_PYARROW),
    Case("parquet/list-column-ragged", _cli("list_ragged.parquet"), error=ScoresError,
         mentions=("{made}/list_ragged.parquet", "'logits'", "row 17", "4 values",
                   "row 0 holds 6"), marks=NEEDS_PYARROW),
    Case("parquet/list-column-null-cell", _cli("list_null_cell.parquet"), error=ScoresError,
         mentions=("{made}/list_null_cell.parquet", "'logits'", "row 23", "null"),
         marks=NEEDS_PYARROW),
    Case("parquet/list-column-null-value", _cli("list_null_value.parquet"), error=ScoresError,
         mentions=("{made}/list_null_value.parquet", "'logits'", "row 31", "value 5"),
         marks=NEEDS_PYARROW),
    Case("parquet/list-column-of-text", _cli("list_text.parquet"), error=ScoresError,
         mentions=("{made}/list_text.parquet", "'logits'", "row 0", "not numbers"),
         marks=NEEDS_PYARROW),
    Case("parquet/list-columns-missing-key", _cli("list_two_columns.parquet", "--key", "probs"),
         error=ScoresError, mentions=("{made}/list_two_columns.parquet", "no column named "
                                      "'probs'", "'logits'", "'embedding'"),
         marks=NEEDS_PYARROW),
]

CASES = NPY + NPZ + PT + PARQUET_LISTS + API
