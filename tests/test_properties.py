"""Properties of class similarity, the hclust ordering and the readers, checked by Hypothesis.

* every measure gives a symmetric matrix with a unit diagonal and values in [-1, 1], equal to
  its numpy/scipy oracle (``np.corrcoef``; ``scipy.stats.spearmanr``; Pearson on the ranks
  within each row, ``scipy.stats.rankdata(axis=1)``), and zero rows for constant classes;
* the matrix does not depend on the order of the samples, nor on the block size it was
  streamed with, nor on whether the scores are in memory or memory-mapped;
* pearson is unchanged by a positive affine map of a class's scores, spearman by a strictly
  increasing map, sample-rank by a strictly increasing map of all scores;
* permuting the classes permutes the matrix, and the partition at every cut of the
  complete-linkage tree is the same set of sets of class names;
* every reader gives back the values and the class names a writer wrote (pandas' CSV, TSV
  and parquet, ``np.savez``, ``torch.save``), and a result folder gives back its class names,
  for any printable names (``=``, ``+``, ``-``, ``@`` and quotes first included).

Shapes are bounded (3..40 samples, 2..12 classes) and values lie in [-1e3, 1e3]; the example
counts keep the whole file near a minute on two cores.
"""

from __future__ import annotations

import csv
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats import rankdata, spearmanr

import blocks_rx
from blocks_rx import results
from blocks_rx.ordering import hclust
from blocks_rx.similarity import MEASURES, compute

ALL_MEASURES = list(MEASURES)
#: The measures with a numpy/scipy oracle (see :func:`oracle`).
ORACLE_MEASURES = ["pearson", "spearman", "sample-rank"]


def quick(examples: int):
    """Settings of one property: ``examples`` random examples, no deadline, no example
    database (nothing is saved between runs)."""
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


# --------------------------------------------------------------------------- strategies

values = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)
values32 = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False, width=32)


def matrices(dtype=np.float64, n=(3, 40), m=(2, 12)):
    """Score matrices of bounded shape, every cell drawn (no fill value, so few constant
    columns)."""
    elements = values32 if np.dtype(dtype) == np.float32 else values
    shapes = st.tuples(st.integers(*n), st.integers(*m))
    return shapes.flatmap(lambda shape: hnp.arrays(dtype, shape, elements=elements,
                                                   fill=st.nothing()))


@st.composite
def structured(draw, n=(20, 60), m=(2, 12)):
    """Continuous scores with planted groups (no ties): latent factors plus noise."""
    n_samples, n_classes = draw(st.integers(*n)), draw(st.integers(*m))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    groups = rng.integers(0, max(1, n_classes // 2), size=n_classes)
    latent = rng.normal(size=(n_samples, n_classes))[:, groups]
    weight = draw(st.floats(0.0, 3.0))
    return weight * latent + rng.normal(size=(n_samples, n_classes))


def spread_ok(matrix: np.ndarray, ratio: float) -> bool:
    """Every column's spread is at least ``ratio`` of its magnitude: no (near-)constant
    column, so the correlations are well conditioned and comparable to an oracle."""
    matrix = np.asarray(matrix, dtype=np.float64)
    spread = matrix.std(axis=0)
    size = np.maximum(np.abs(matrix).max(axis=0), 1.0)
    return bool(np.all(spread >= ratio * size))


def loaded(scores, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # more classes than samples, etc.
        return blocks_rx.load_scores(scores, **kwargs)


def measured(scores, measure: str, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compute(scores, measure=measure, warn=False, **kwargs)


def oracle(scores: np.ndarray, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """(expected matrix, constant columns) by numpy and scipy, in float64."""
    scores = np.asarray(scores, dtype=np.float64)
    m = scores.shape[1]
    if measure == "pearson":
        transformed = scores
    elif measure == "spearman":
        transformed = rankdata(scores, axis=0)
    elif measure == "sample-rank":
        transformed = rankdata(scores, axis=1)
    else:
        raise AssertionError(f"no oracle for the measure {measure!r}")
    constant = np.all(transformed == transformed[0], axis=0)
    expected = np.eye(m)
    keep = np.flatnonzero(~constant)
    if keep.size >= 2:
        if measure == "spearman":
            statistic = spearmanr(scores[:, keep]).statistic
            block = np.array([[1.0, statistic], [statistic, 1.0]]) if keep.size == 2 else statistic
        else:
            block = np.corrcoef(transformed[:, keep], rowvar=False)
        expected[np.ix_(keep, keep)] = block
    np.fill_diagonal(expected, 1.0)
    return expected, constant


# --------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize("measure", ALL_MEASURES)
@quick(60)
@given(scores=st.one_of(matrices(np.float32), matrices(np.float64)))
def test_matrix_is_symmetric_with_unit_diagonal_and_bounded(measure, scores):
    sim = measured(scores, measure)  # constant columns allowed here
    matrix = sim.matrix
    assert matrix.shape == (scores.shape[1],) * 2
    assert np.isfinite(matrix).all()
    np.testing.assert_array_equal(matrix, matrix.T)
    np.testing.assert_array_equal(np.diag(matrix), 1.0)
    assert matrix.min() >= -1.0 and matrix.max() <= 1.0


@pytest.mark.parametrize("measure", ORACLE_MEASURES)
@quick(80)
@given(scores=matrices(np.float64))
def test_matrix_equals_the_oracle(measure, scores):
    assume(spread_ok(scores, 1e-6))
    expected, constant = oracle(scores, measure)
    sim = measured(scores, measure, out_dtype=np.float64)
    np.testing.assert_allclose(sim.matrix, expected, rtol=0, atol=1e-8)
    assert sim.constant_classes == tuple(c for c, k in zip(sim.classes, constant) if k)


@pytest.mark.parametrize("measure", ORACLE_MEASURES)
@quick(50)
@given(scores=matrices(np.float32))
def test_float32_matrix_equals_the_oracle_within_float32_rounding(measure, scores):
    assume(spread_ok(scores, 1e-2))
    expected, _ = oracle(scores, measure)
    sim = measured(scores, measure)
    assert sim.matrix.dtype == np.float32
    np.testing.assert_allclose(sim.matrix, expected, rtol=0, atol=2e-4)


@pytest.mark.parametrize("measure", ["pearson", "spearman"])
@quick(40)
@given(scores=matrices(np.float64, m=(3, 12)), data=st.data())
def test_a_constant_class_is_reported_with_zero_correlations(measure, scores, data):
    column = data.draw(st.integers(0, scores.shape[1] - 1), label="column")
    scores = scores.copy()
    scores[:, column] = data.draw(values, label="constant")
    block_size = data.draw(st.integers(1, scores.shape[0]), label="block_size")
    sim = measured(scores, measure, out_dtype=np.float64, block_size=block_size)
    assert sim.classes[column] in sim.constant_classes
    others = np.delete(sim.matrix[column], column)
    np.testing.assert_array_equal(others, 0.0)
    assert sim.matrix[column, column] == 1.0


# --------------------------------------------------------------------------- invariances


@pytest.mark.parametrize("measure", ALL_MEASURES)
@quick(50)
@given(scores=matrices(np.float64), data=st.data())
def test_permuting_the_samples_changes_nothing(measure, scores, data):
    assume(spread_ok(scores, 1e-6))
    order = data.draw(st.permutations(range(scores.shape[0])), label="order")
    before = measured(scores, measure, out_dtype=np.float64).matrix
    after = measured(scores[np.array(order)], measure, out_dtype=np.float64).matrix
    np.testing.assert_allclose(after, before, rtol=0, atol=1e-10)


@quick(80)
@given(scores=matrices(np.float64), data=st.data())
def test_pearson_ignores_a_positive_affine_map_of_a_class(scores, data):
    assume(spread_ok(scores, 1e-6))
    column = data.draw(st.integers(0, scores.shape[1] - 1), label="column")
    scale = data.draw(st.floats(1e-2, 1e2), label="a")
    shift = data.draw(st.floats(-1e3, 1e3), label="b")
    mapped = scores.copy()
    mapped[:, column] = scale * mapped[:, column] + shift
    assume(spread_ok(mapped, 1e-6))
    before = measured(scores, "pearson", out_dtype=np.float64).matrix
    after = measured(mapped, "pearson", out_dtype=np.float64).matrix
    np.testing.assert_allclose(after, before, rtol=0, atol=1e-8)


INCREASING = {
    "exp": lambda x: np.exp(x / 200.0),
    "cube": lambda x: x**3,
    "arctan": lambda x: np.arctan(x / 10.0),
    "shifted log": lambda x: np.log1p(x + 1e3),
    "affine": lambda x: 3.0 * x - 7.0,
}


@quick(80)
@given(scores=matrices(np.float64), data=st.data())
def test_spearman_ignores_a_strictly_increasing_map_of_a_class(scores, data):
    column = data.draw(st.integers(0, scores.shape[1] - 1), label="column")
    name = data.draw(st.sampled_from(sorted(INCREASING)), label="map")
    mapped = scores.copy()
    mapped[:, column] = INCREASING[name](scores[:, column])
    # A map that is increasing on the reals can merge two floats by rounding: not a tie-free
    # map of these values, so not covered by the property.
    assume(np.array_equal(rankdata(mapped[:, column]), rankdata(scores[:, column])))
    before = measured(scores, "spearman", out_dtype=np.float64).matrix
    after = measured(mapped, "spearman", out_dtype=np.float64).matrix
    np.testing.assert_array_equal(after, before)


@quick(60)
@given(scores=matrices(np.float64), name=st.sampled_from(sorted(INCREASING)))
def test_sample_rank_ignores_a_strictly_increasing_map_of_all_scores(scores, name):
    mapped = INCREASING[name](scores)
    assume(np.array_equal(rankdata(mapped, axis=1), rankdata(scores, axis=1)))
    before = measured(scores, "sample-rank", out_dtype=np.float64).matrix
    after = measured(mapped, "sample-rank", out_dtype=np.float64).matrix
    np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("measure", ALL_MEASURES)
@quick(50)
@given(scores=matrices(np.float64), data=st.data())
def test_permuting_the_classes_permutes_the_matrix(measure, scores, data):
    assume(spread_ok(scores, 1e-6))
    m = scores.shape[1]
    order = np.array(data.draw(st.permutations(range(m)), label="order"))
    names = [f"c{j}" for j in range(m)]
    sim = measured(loaded(scores, classes=names), measure, out_dtype=np.float64)
    permuted = measured(loaded(scores[:, order], classes=[names[j] for j in order]),
                        measure, out_dtype=np.float64)
    assert permuted.classes == tuple(names[j] for j in order)
    np.testing.assert_allclose(permuted.matrix, sim.matrix[np.ix_(order, order)], rtol=0,
                               atol=1e-10)


def partitions(ordering) -> dict[int, set[frozenset[str]]]:
    """The partition of the class names at every cut k = 1..m of a tree."""
    out = {}
    for k in range(1, ordering.n_classes + 1):
        groups = ordering.cut_labels(k)
        out[k] = {frozenset(c for c, g in zip(ordering.classes, groups) if g == group)
                  for group in set(groups.tolist())}
        assert len(out[k]) == k
    return out


def distinct_distances(matrix: np.ndarray, gap: float) -> bool:
    """No two pairwise distances 1 - r within ``gap`` of each other (so no tie can decide a
    merge: complete linkage then builds the same tree whatever the class order)."""
    upper = np.sort((1.0 - matrix)[np.triu_indices(len(matrix), k=1)])
    return upper.size < 2 or bool(np.min(np.diff(upper)) > gap)


@quick(200)
@given(scores=structured(), data=st.data())
def test_permuting_the_classes_permutes_every_cut_of_the_tree(scores, data):
    m = scores.shape[1]
    order = np.array(data.draw(st.permutations(range(m)), label="order"))
    names = [f"class {j}" for j in range(m)]
    permuted_names = [names[j] for j in order]
    sim = measured(loaded(scores, classes=names), "pearson", out_dtype=np.float64)
    assume(distinct_distances(sim.matrix, 1e-9))
    tree = hclust(sim, linkage="complete", hclust_backend="python")
    # The same matrix with its rows and columns permuted, and the matrix recomputed from the
    # permuted scores: both give the same groups at every cut.
    same_matrix = hclust(sim.matrix[np.ix_(order, order)], classes=permuted_names,
                         linkage="complete", hclust_backend="python")
    recomputed = measured(loaded(scores[:, order], classes=permuted_names),
                          "pearson", out_dtype=np.float64)
    again = hclust(recomputed, linkage="complete", hclust_backend="python")
    expected = partitions(tree)
    assert partitions(same_matrix) == expected
    assert partitions(again) == expected
    np.testing.assert_allclose(np.sort(again.height), np.sort(tree.height), atol=1e-12)


# --------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("measure", ALL_MEASURES)
@quick(60)
@given(scores=matrices(np.float64), data=st.data())
def test_streaming_equals_in_memory_for_any_block_size(measure, scores, data):
    assume(spread_ok(scores, 1e-6))
    block_size = data.draw(st.integers(1, scores.shape[0]), label="block_size")
    whole = measured(scores, measure, out_dtype=np.float64, block_size=scores.shape[0]).matrix
    streamed = measured(scores, measure, out_dtype=np.float64, block_size=block_size).matrix
    np.testing.assert_allclose(streamed, whole, rtol=0, atol=1e-10)


@pytest.mark.parametrize("measure", ALL_MEASURES)
@quick(40)
@given(scores=matrices(np.float32), data=st.data())
def test_float32_streaming_equals_in_memory_within_rounding(measure, scores, data):
    assume(spread_ok(scores, 1e-2))
    block_size = data.draw(st.integers(1, scores.shape[0]), label="block_size")
    whole = measured(scores, measure, block_size=scores.shape[0]).matrix
    streamed = measured(scores, measure, block_size=block_size).matrix
    np.testing.assert_allclose(streamed, whole, rtol=0, atol=2e-5)


@pytest.mark.parametrize("measure", ALL_MEASURES)
@quick(25)
@given(scores=matrices(np.float32), data=st.data())
def test_a_memory_mapped_npy_gives_the_matrix_of_the_array(measure, scores, data):
    block_size = data.draw(st.integers(1, scores.shape[0]), label="block_size")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scores.npy"
        np.save(path, scores)
        mapped = loaded(path)
        assert isinstance(mapped.values, np.memmap)
        from_file = measured(mapped, measure, block_size=block_size).matrix
        del mapped
    in_memory = measured(scores, measure, block_size=block_size).matrix
    np.testing.assert_array_equal(from_file, in_memory)


# --------------------------------------------------------------------------- readers


def _printable(name: str) -> bool:
    return name != "" and name.strip() == name


#: Any printable text: no control character (Unicode Cc: C0, DEL and C1, which blocks-rx
#: refuses in class names), no lone surrogate, no leading or trailing whitespace.
plain_names = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1,
                      max_size=10).filter(_printable)
#: Names that mean something to a CSV parser, a spreadsheet, pandas or pyarrow.
TRICKY_NAMES = ["nan", "NaN", "NA", "N/A", "null", "None", "", "1", "-1", "1e5", "0x10", "True",
                "Unnamed: 0", "__index_level_0__", "a.1", "sample", "=1+1", "+x", "-y", "@z",
                "'q", "''", '"', '"a"', "a,b", "a;b", "a|b", "a b", "é", "日本", "😀",
                "a\u2028b", "a\u200bb", "\ufeffa", "a\\b", "#x", "$x$"]
formula_names = st.tuples(st.sampled_from(["=", "+", "-", "@", "'"]), plain_names).map("".join)
class_names = st.one_of(plain_names, st.sampled_from([t for t in TRICKY_NAMES if _printable(t)]),
                        formula_names)


@st.composite
def named_scores(draw, n=(2, 20), m=(2, 8)):
    n_samples, n_classes = draw(st.integers(*n)), draw(st.integers(*m))
    names = draw(st.lists(class_names, min_size=n_classes, max_size=n_classes, unique=True))
    scores = draw(hnp.arrays(np.float64, (n_samples, n_classes), elements=values,
                             fill=st.nothing()))
    return scores, names


def _write_csv(frame, path, **kwargs):
    frame.to_csv(path, index=False, **kwargs)


WRITERS = {
    "csv": (".csv", lambda frame, scores, names, path: _write_csv(frame, path)),
    "csv-excel-bom-crlf": (".csv", lambda frame, scores, names, path: _write_csv(
        frame, path, encoding="utf-8-sig", lineterminator="\r\n")),
    "csv-quote-all": (".csv", lambda frame, scores, names, path: _write_csv(
        frame, path, quoting=csv.QUOTE_ALL)),
    "tsv": (".tsv", lambda frame, scores, names, path: _write_csv(frame, path, sep="\t")),
    "parquet": (".parquet", lambda frame, scores, names, path: frame.to_parquet(path,
                                                                                index=False)),
    "npz": (".npz", lambda frame, scores, names, path: np.savez(path, scores=scores,
                                                               classes=np.array(names))),
    "pt": (".pt", lambda frame, scores, names, path: _torch_save(scores, names, path)),
}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def ambiguous_header(writer: str, names) -> bool:
    """Headers that the readers' documented rules read as something else:

    * a first column named ``Unnamed: 0`` (what ``to_csv`` calls the index) holds sample ids;
    * without a BOM written first, a first name starting with U+FEFF is read as a BOM;
    * a header of numbers only is read as a missing header (a first data line), unless it
      is 0..m-1 as pandas names an unnamed matrix's columns.
    """
    if writer not in ("csv", "csv-excel-bom-crlf", "csv-quote-all", "tsv", "parquet"):
        return False
    if names[0] == "Unnamed: 0":
        return True
    if writer == "parquet":
        return False
    if writer != "csv-excel-bom-crlf" and names[0].startswith("\ufeff"):
        return True
    return all(_is_number(n) for n in names) and list(names) != [str(j) for j in range(len(names))]


def _torch_save(scores, names, path):
    torch = pytest.importorskip("torch")
    torch.save({"scores": torch.from_numpy(scores), "classes": list(names)}, path)


@pytest.mark.parametrize("writer", list(WRITERS))
@quick(150)
@given(case=named_scores())
def test_every_reader_gives_back_what_a_writer_wrote(writer, case):
    if writer == "parquet":
        pytest.importorskip("pyarrow")
    scores, names = case
    assume(not ambiguous_header(writer, names))
    suffix, write = WRITERS[writer]
    frame = pd.DataFrame(scores, columns=names)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"scores{suffix}"
        write(frame, scores, names, path)
        scores_read = loaded(path)
        assert scores_read.classes == tuple(names)
        got = np.asarray(scores_read.values, dtype=np.float64)
        del scores_read
    assert got.shape == scores.shape
    np.testing.assert_allclose(got, scores, rtol=1e-15, atol=0)


@quick(25)
@given(names=st.integers(2, 7).flatmap(
           lambda m: st.lists(class_names, min_size=m, max_size=m, unique=True)),
       seed=st.integers(0, 2**16))
def test_a_result_folder_gives_back_its_class_names(names, seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(30, len(names))) + rng.normal(size=(30, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = blocks_rx.analyze(loaded(scores, classes=names), hclust_backend="python",
                                     groups="fuzzy-cmeans" if len(names) >= 4 else None)
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "result"
            results.write(analysis, target, dpi=20)
            stored = results.read(target)
            order = results.read_table(target / "order.csv")
    assert stored.similarity.classes == tuple(names)
    assert stored.ordering.classes == tuple(names)
    assert stored.ordering.ordered_classes == analysis.ordering.ordered_classes
    assert list(order["class"]) == analysis.ordering.ordered_classes
    if stored.groups is not None:
        assert stored.groups.classes == tuple(names)
