"""R's seriation through the bridge, checked against R run alone (Rscript) for the same orders."""

from __future__ import annotations

import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest

from blocks_rx import r
from blocks_rx.ordering import criteria, hclust, order_classes, seriate

from conftest import RSCRIPT, R_SCRIPTS, planted_scores

pytestmark = pytest.mark.skipif(not r.available(), reason="R with rpy2 is not available "
                                "(run `make setup`, which installs both when it can)")

N_CLASSES = 200


@pytest.fixture(scope="module")
def similarity200():
    S, _ = planted_scores(n_samples=1500, groups=(50, 60, 40, 50), seed=21, dtype=np.float64)
    M = np.corrcoef(S, rowvar=False).astype(np.float32).astype(np.float64)
    return M


def fast_methods():
    from blocks_rx.ordering.seriation import WARN_SECONDS, estimated_seconds
    from blocks_rx.r.seriation import seriation_methods

    methods = seriation_methods("dist")
    slow = [m for m in methods if (estimated_seconds(m, N_CLASSES) or 0) > WARN_SECONDS]
    return [m for m in methods if m not in slow], slow


def test_the_slow_methods_left_out_are_only_the_known_ones():
    fast, slow = fast_methods()
    assert sorted(slow) == ["BBURCG", "BBWRCG", "SA"]
    assert len(fast) >= 30


def test_every_fast_method_gives_a_permutation_whose_criteria_match_r_alone(similarity200, tmp_path):
    M = similarity200
    fast, _ = fast_methods()
    orderings = {}
    for method in fast:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # some methods warn about ties or convergence
            ordering = seriate(M, method, seed=1)
        assert sorted(ordering.order.tolist()) == list(range(N_CLASSES)), method
        assert ordering.versions["seriation"], method
        assert ordering.hclust_backend == ("r" if ordering.merge is not None else None), method
        orderings[method] = ordering
    orderings["hclust"] = hclust(M)

    M.astype("<f8").tofile(tmp_path / "m.bin")
    rows = []
    for name, ordering in orderings.items():
        order_file = tmp_path / f"{name}.txt"
        order_file.write_text("\n".join(str(i + 1) for i in ordering.order) + "\n")
        rows.append({"matrix": str(tmp_path / "m.bin"), "n": N_CLASSES, "distance": "1-r",
                     "order": str(order_file), "out": str(tmp_path / f"{name}.csv")})
    pd.DataFrame(rows).to_csv(tmp_path / "manifest.csv", index=False)
    subprocess.run([RSCRIPT, str(R_SCRIPTS / "reference_criterion.R"), str(tmp_path / "manifest.csv")],
                   check=True, capture_output=True, timeout=600)
    for name, ordering in orderings.items():
        expected = pd.read_csv(tmp_path / f"{name}.csv")
        ours = criteria(M, ordering, distance="1-r")
        assert list(ours) == expected["criterion"].tolist()
        np.testing.assert_allclose([ours[c] for c in expected["criterion"]],
                                   expected["value"].astype(float), rtol=1e-12, err_msg=name)


def test_orderings_differ_by_criterion_in_the_expected_direction(similarity200):
    ordered = criteria(similarity200, hclust(similarity200), methods=["AR_events", "Path_length"])
    baseline = criteria(similarity200, order_classes(similarity200, "identity"), methods=["AR_events", "Path_length"])
    # The planted blocks are in input order already, so compare with a random order instead.
    rng = np.random.default_rng(0)
    perm = rng.permutation(N_CLASSES)
    shuffled = order_classes(similarity200, "identity")
    from dataclasses import replace

    random_values = criteria(similarity200, replace(shuffled, order=perm), methods=["AR_events", "Path_length"])
    assert ordered["AR_events"] < random_values["AR_events"]
    assert ordered["Path_length"] < random_values["Path_length"]
    assert set(baseline) == {"AR_events", "Path_length"}


def test_seeds_make_stochastic_methods_reproducible(similarity200):
    a = seriate(similarity200, "QAP_2SUM", seed=5).order
    b = seriate(similarity200, "QAP_2SUM", seed=5).order
    c = seriate(similarity200, "Random", seed=5).order
    d = seriate(similarity200, "Random", seed=6).order
    assert np.array_equal(a, b) and not np.array_equal(c, d)


def test_control_parameters_reach_r(similarity200):
    def tsp(start):
        return seriate(similarity200, "TSP", control={"method": "nn", "start": start}).order

    # Nearest-neighbour tours are deterministic given the start city, and differ between starts.
    assert np.array_equal(tsp(7), tsp(7)) and not np.array_equal(tsp(7), tsp(150))
    with pytest.raises(r.RError, match="R error"):
        seriate(similarity200, "TSP", control={"method": "no-such-solver"})


def test_tree_methods_keep_their_tree_and_can_be_cut(similarity200):
    ordering = seriate(similarity200, "OLO_complete")
    assert ordering.merge is not None and ordering.cut_labels(4).max() == 4
    # OLO reorders the leaves of the complete-linkage tree without changing its clusters.
    plain = hclust(similarity200)
    assert len(set(zip(plain.cut_labels(4), ordering.cut_labels(4)))) == 4


def test_slow_methods_warn_with_an_estimate_before_running(monkeypatch):
    from blocks_rx.ordering import estimated_seconds

    events = []
    real_call = r.session().call

    def recording_call(function, *args, **kwargs):
        if function == "blocks_seriate":
            events.append("R ran")
            raise r.RError("stopped by the test")
        return real_call(function, *args, **kwargs)

    monkeypatch.setattr(r.session(), "call", recording_call)
    monkeypatch.setattr(warnings, "warn", lambda message, *a, **k: events.append(str(message)))
    with pytest.raises(r.RError):
        seriate(np.eye(40) * 0.5 + 0.5, "BBURCG")
    assert "exponential" in events[0] and events[1] == "R ran"
    with pytest.raises(r.RError):
        seriate(np.eye(3000) * 0.5 + 0.5, "OLO")
    assert events[2] == "R ran"  # OLO on 3,000 classes: about 12 s, below the threshold
    assert round(estimated_seconds("OLO", 6000)) == 98


def test_unknown_method_lists_what_r_offers():
    with pytest.raises(ValueError, match="unknown ordering method 'tsp'; choose one of .*OLO"):
        order_classes(np.eye(3), "tsp")


def test_the_ordering_registry_lists_exactly_what_the_installed_seriation_offers():
    from blocks_rx.ordering import ORDERINGS
    from blocks_rx.r.seriation import seriation_methods

    registered = [name for name, entry in ORDERINGS.items() if entry.family == "seriation"]
    assert sorted(registered) == sorted(seriation_methods("dist"))
    for name in registered:
        entry = ORDERINGS[name]
        assert entry.needs_r and {o.name for o in entry.options} == {"distance", "control", "seed"}
        assert entry.gives_tree == name.startswith(("HC", "GW", "OLO")), name


def test_hclust_backend_auto_uses_r_and_python_backend_does_not():
    M = np.corrcoef(np.random.default_rng(1).normal(size=(30, 10)), rowvar=False)
    auto = hclust(M, hclust_backend="auto")
    python = hclust(M, hclust_backend="python")
    assert auto.hclust_backend == "r" and python.hclust_backend == "python"
    assert auto.versions["R"].startswith("4.") and auto.versions["rpy2"]
    assert np.array_equal(auto.order, python.order) and np.array_equal(auto.merge, python.merge)
    with pytest.raises(ValueError, match="unknown hclust backend 'fortran'"):
        hclust(M, hclust_backend="fortran")
    with pytest.warns(DeprecationWarning, match="hclust_backend"):
        assert hclust(M, backend="python").hclust_backend == "python"
