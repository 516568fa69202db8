"""Fuzzy groups at 2,622 (VGGFace's size), 5,000 and 20,000 classes: block Krylov vs dense eigh.

``fuzzy_groups`` runs fuzzy c-means on the leading eigenvectors of the similarity matrix M.
They come from a restarted block Krylov solver on the float32 M (``_leading_eigh`` in
``blocks_rx/groups.py``: O(m^2 k) time, O(m k) memory); before, from LAPACK's dense ``eigh``
of a float64 copy (O(m^3) time, 8 m^2 bytes more). This script times ``fuzzy_groups`` (all
candidate numbers of groups, with their curves) and the spectrum inside it with the solver,
beside the old dense path as the anchor (kept here, as ``dense_spectrum``, and patched in
for its runs) at the sizes where the dense one is affordable. Contenders alternate, and the
best of ``--repeats`` runs is kept for runs under 15 s. At the anchored sizes it also checks
that both paths agree: eigenvalues, the number of groups, crisp labels and memberships.

The similarity matrix plants a VGGFace-like structure (two top-level groups of 12
subgroups each, a failed group of 60 classes across all subgroups, a split pair) in
``n = 4,000`` samples, and is built directly as a float32 correlation matrix: the columns of
the planted scores, centred and scaled to unit length, multiplied in stripes of the upper
triangle and mirrored (exactly symmetric, unit diagonal, positive semi-definite), so that
20,000 classes need 1.6 GB for M and 0.3 GB for the scores, not ``compute_similarity``'s
float64 co-moments.

Goals (issue: groups at scale), on this 2-core machine: ``fuzzy_groups`` under 10 s at
5,000 classes and under 90 s at 20,000, in under 8 GB of memory.

``--compare-skfuzzy`` times only fuzzy c-means' two implementations instead: ``fuzzy_groups``
as it runs (blocks-rx's compiled twin of scikit-fuzzy's ``cmeans``,
``blocks_rx/groups/_cmeans.py``) beside the same call with scikit-fuzzy's own
``skfuzzy.cluster.cmeans`` patched in (what ran before), alternating, best of ``--repeats``,
with the time of the fits inside it (k-means++ starts and cmeans, ``_fit_candidates``; the
rest is mostly the spectrum). It checks that both give the same groups (number, candidates,
crisp labels, memberships to 1e-6) and prints how far centres, curves and the chosen fit's
iterations are apart. It runs on the planted matrix above and, with ``--logits SAMPLES``,
on the correlation matrix of benchmarks/similarity.py's synthetic logits (40 planted groups,
what benchmarks/analyze.py runs: 32 candidate numbers of groups there, against the planted
matrix's 24). Goal (issue: fuzzy c-means' speed): ``fuzzy_groups`` at least 5x faster than
with scikit-fuzzy's ``cmeans`` at 2,622 classes, with the same results. scikit-fuzzy's
steps call multi-threaded BLAS on tiny arrays, which a busy machine slows several-fold: run
with ``OPENBLAS_NUM_THREADS=1`` for figures that do not depend on the load.

    python benchmarks/groups.py                        # 2,622, 5,000 and 20,000 classes
    python benchmarks/groups.py --classes 2622 5000    # fewer sizes
    python benchmarks/groups.py --dense-up-to 2622     # the dense anchor at 2,622 only
    python benchmarks/groups.py --compare-skfuzzy --classes 2622 5000 --logits 100000
"""

from __future__ import annotations

import argparse
import math
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import blocks_rx
from blocks_rx import groups as bg
from blocks_rx.groups import _cmeans, fuzzy
from blocks_rx.similarity import Similarity

from _bench import goal

GOALS = {5_000: 10.0, 20_000: 90.0}  # classes -> seconds for the groups step (find_groups)
CMEANS_GOAL = (2_622, 5.0)  # classes, least speed-up of fuzzy_groups over scikit-fuzzy's cmeans
MEMORY_GOAL_GB = 8.0
CHEAP = 15.0  # seconds: contenders faster than this are repeated, the best run kept


def planted_similarity(m: int, n: int = 4_000, seed: int = 0, stripe: int = 2_048):
    """(Similarity, failed class indices, the split pair's two index sets), float32."""
    rng = np.random.default_rng(seed)
    top = rng.integers(0, 2, size=m)
    sub = top * 12 + rng.integers(0, 12, size=m)
    failed = rng.choice(m, size=60, replace=False)
    pair = (np.flatnonzero(sub == 3), np.flatnonzero(sub == 12 + 5))
    # The draws of the earlier planted_logits(n, m), in its order, summed in place.
    top_factors = 1.2 * rng.standard_normal((n, 2), dtype=np.float32)
    sub_factors = rng.standard_normal((n, 24), dtype=np.float32)
    scores = rng.standard_normal((n, m), dtype=np.float32)
    scores += top_factors[:, top]
    scores += sub_factors[:, sub]
    scores[:, failed] += rng.standard_normal((n, 1), dtype=np.float32)
    scores[:, np.concatenate(pair)] += 0.8 * rng.standard_normal((n, 1), dtype=np.float32)
    scores -= scores.mean(axis=0, dtype=np.float64).astype(np.float32)
    scores /= np.linalg.norm(scores, axis=0)
    matrix = np.empty((m, m), dtype=np.float32)
    for start in range(0, m, stripe):  # upper triangle by stripes, mirrored: exactly symmetric
        block = scores[:, start:start + stripe].T @ scores[:, start:]
        matrix[start:start + stripe, start:] = block
        matrix[start:, start:start + stripe] = block.T
    del scores
    np.clip(matrix, -1.0, 1.0, out=matrix)
    np.fill_diagonal(matrix, 1.0)
    similarity = Similarity(matrix=matrix, classes=tuple(f"class_{j}" for j in range(m)),
                            n_samples=n, source=f"planted, {n:,} samples")
    return similarity, failed, pair


def dense_spectrum(matrix, n_samples: int, k: int):
    """The old ``_spectrum``: LAPACK's dense eigh (MRRR subset) of a float64 copy of M."""
    from scipy.linalg import eigh

    M = np.asarray(matrix, dtype=np.float64)
    n = M.shape[0]
    k = min(n, k)
    values, vectors = eigh(M, subset_by_index=[n - k, n - 1])
    values, vectors = values[::-1].copy(), vectors[:, ::-1]
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(k)])
    vectors = vectors * np.where(signs == 0, 1.0, signs)
    edge = (1.0 + math.sqrt(n / n_samples)) ** 2 if n_samples >= 2 else 1.0
    return values, vectors, edge


@contextmanager
def spectrum_from(function, seconds: list):
    """Run fuzzy_groups with ``function`` as its spectrum, appending the spectrum's time."""
    original = fuzzy._spectrum

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    fuzzy._spectrum = timed  # where fuzzy_groups looks it up
    try:
        yield
    finally:
        fuzzy._spectrum = original


def run(contender: str, similarity) -> tuple[float, float, bg.Groups]:
    """(fuzzy_groups seconds, spectrum seconds, groups) for one run of one contender."""
    spectrum_seconds: list[float] = []
    function = dense_spectrum if contender == "dense" else fuzzy._spectrum
    with spectrum_from(function, spectrum_seconds):
        started = time.perf_counter()
        groups = bg.fuzzy_groups(similarity)
        seconds = time.perf_counter() - started
    return seconds, spectrum_seconds[0], groups


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


def one_size(m: int, n: int, repeats: int, dense: bool) -> dict:
    started = time.perf_counter()
    similarity, failed, pair = planted_similarity(m, n)
    print(f"\n{m:,} classes ({n:,} planted samples; matrix built in "
          f"{time.perf_counter() - started:.1f} s): 2 top-level groups x 12 subgroups, a failed "
          f"group of {failed.size}, a split pair of {pair[0].size} + {pair[1].size}", flush=True)
    contenders = ["krylov", "dense"] if dense else ["krylov"]
    best = {name: (math.inf, math.inf, None) for name in contenders}
    runs = {name: 0 for name in contenders}
    for _ in range(repeats):  # alternate the contenders; repeat only the cheap ones
        for name in contenders:
            if runs[name] and best[name][0] > CHEAP:
                continue
            seconds, spectrum, groups = run(name, similarity)
            runs[name] += 1
            print(f"  {name:<7} run {runs[name]}: fuzzy_groups {seconds:7.2f} s, spectrum "
                  f"{spectrum:7.2f} s", flush=True)
            if seconds < best[name][0]:
                best[name] = (seconds, spectrum, groups)
    groups = best["krylov"][2]
    names = np.asarray(similarity.classes)
    planted_failed = set(names[failed])
    match = max(jaccard(names[groups.members(k)], planted_failed)
                for k in range(groups.n_groups))
    print(f"  krylov: {groups.n_groups} groups (candidates {groups.candidates[0]}.."
          f"{groups.candidates[-1]}, d = {groups.n_components}); best Jaccard of a group with "
          f"the planted failed 60: {match:.3f}")
    # The default index fits only the candidates it needs; a partition index fits them all.
    every = bg.fuzzy_groups(similarity, index="fpc")
    chosen = {}
    for index, (_, larger) in bg.INDICES.items():
        if index != "eigen":
            ranked = np.where(every.curves["filled"], every.curves[index],
                              -np.inf if larger else np.inf)
            chosen[index] = every.candidates[int(np.argmax(ranked) if larger
                                                 else np.argmin(ranked))]
    print("  the other indices would choose " + ", ".join(f"{name} c = {c}"
                                                       for name, c in chosen.items()))
    findings = _findings(similarity, names, planted_failed, pair)
    if dense:
        anchor = best["dense"][2]
        values = np.max(np.abs(groups.eigenvalues - anchor.eigenvalues)
                        / np.abs(anchor.eigenvalues))
        same = (groups.n_groups == anchor.n_groups
                and np.array_equal(groups.crisp, anchor.crisp))
        print(f"  krylov vs dense: eigenvalues within {values:.1e} (relative), "
              f"{'same' if same else 'DIFFERENT'} groups and crisp labels, memberships within "
              f"{np.abs(groups.memberships - anchor.memberships).max():.1e}"
              if groups.n_groups == anchor.n_groups else
              f"  krylov vs dense: DIFFERENT numbers of groups ({groups.n_groups} vs "
              f"{anchor.n_groups}); eigenvalues within {values:.1e}")
    return {**{name: best[name][:2] for name in contenders}, "findings": findings}


def _findings(similarity, names, planted_failed, pair) -> float:
    """Time the whole groups step (find_groups: fuzzy groups, then failed, split and coherent
    groups with their null models) on the hclust order, and say what it found."""
    import blocks_rx

    ordering = blocks_rx.order_classes(similarity, hclust_backend="python")
    started = time.perf_counter()
    found = bg.find_groups(similarity, ordering)
    seconds = time.perf_counter() - started
    failed = [(jaccard(p.classes, planted_failed), p.evidence.z) for p in found.failed]
    sides = (set(names[pair[0]]), set(names[pair[1]]))
    split = [max(min(jaccard(s.first.classes, sides[0]), jaccard(s.second.classes, sides[1])),
                 min(jaccard(s.first.classes, sides[1]), jaccard(s.second.classes, sides[0])))
             for s in found.split]
    print(f"  find_groups (the whole groups step, with the null models): {seconds:.2f} s; "
          f"{len(found.failed)} failed group(s), Jaccard with the planted 60 and z: "
          f"{[(round(j, 3), round(z, 1)) for j, z in failed]}; {len(found.split)} split "
          f"group(s), Jaccard with the planted pair: {[round(j, 3) for j in split]}",
          flush=True)
    return seconds


def logits_similarity(m: int, n: int) -> Similarity:
    """The correlation matrix of benchmarks/similarity.py's synthetic logits, n x m (float32,
    written to a temporary .npy and read back memory-mapped, as analyze.py runs them)."""
    from similarity import synthetic_logits

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "logits.npy"
        synthetic_logits(path, n, m)
        return blocks_rx.compute_similarity(np.load(path, mmap_mode="r"), warn=False)


@contextmanager
def cmeans_from(function, seconds: list):
    """Run fuzzy_groups with ``function`` as its cmeans (looked up in _cmeans at each fit),
    appending the time of its fits (``_fit_candidates``: k-means++ starts and cmeans)."""
    original, fits = _cmeans.cmeans, fuzzy._fit_candidates

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fits(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    _cmeans.cmeans, fuzzy._fit_candidates = function, timed
    try:
        yield
    finally:
        _cmeans.cmeans, fuzzy._fit_candidates = original, fits


def compare_cmeans(similarity, label: str, repeats: int) -> dict:
    """fuzzy_groups with the compiled twin and with scikit-fuzzy's cmeans, alternating, each
    ``repeats`` times (the ratio is the point, so slow runs repeat too): the best seconds of
    each, and whether they agree."""
    from skfuzzy.cluster import cmeans as skfuzzy_cmeans

    implementations = {"compiled twin": _cmeans.cmeans, "scikit-fuzzy": skfuzzy_cmeans}
    best = {name: (math.inf, math.inf, None) for name in implementations}
    runs = dict.fromkeys(implementations, 0)
    print(f"  {label}: fuzzy_groups with each cmeans", flush=True)
    for _ in range(repeats):
        for name, function in implementations.items():
            fits: list[float] = []
            with cmeans_from(function, fits):
                started = time.perf_counter()
                groups = bg.fuzzy_groups(similarity)
                seconds = time.perf_counter() - started
            runs[name] += 1
            print(f"    {name:<13} run {runs[name]}: {seconds:7.2f} s (fits {fits[0]:.2f} s)",
                  flush=True)
            if seconds < best[name][0]:
                best[name] = (seconds, fits[0], groups)
    (twin_seconds, twin_fits, twin), (reference_seconds, reference_fits, reference) = \
        best.values()
    same = _agreement(twin, reference)
    print(f"    {twin.n_groups} groups of candidates {twin.candidates[0]}..{twin.candidates[-1]}; "
          f"{'SAME' if same['same'] else 'DIFFERENT'} results: memberships within "
          f"{same['memberships']:.1e}, centres within {same['centres']:.1e}, fpc curve within "
          f"{same['fpc']:.1e}, iterations of the chosen fit {same['iterations'][0]} and "
          f"{same['iterations'][1]}; speed-up {reference_seconds / twin_seconds:.1f}x "
          f"(fits {reference_fits / twin_fits:.1f}x)", flush=True)
    return {"twin": twin_seconds, "skfuzzy": reference_seconds, "twin fits": twin_fits,
            "skfuzzy fits": reference_fits, **same}


def _agreement(twin, reference) -> dict:
    """How far the twin's groups are from scikit-fuzzy's. ``same``: the issue's criterion
    (number of groups, candidates and crisp labels equal, memberships to 1e-6). The chosen
    fit's iterations may differ: where two starts reach the same fit, rounding decides whose
    objective is lower, and a stopping norm within rounding of ``error`` the last step."""
    comparable = twin.n_groups == reference.n_groups
    memberships = (np.abs(twin.memberships - reference.memberships).max() if comparable
                   else math.inf)
    centres = np.abs(twin.centers - reference.centers).max() if comparable else math.inf
    same = (comparable and twin.candidates == reference.candidates
            and np.array_equal(twin.crisp, reference.crisp) and memberships <= 1e-6)
    return {"same": bool(same), "memberships": float(memberships), "centres": float(centres),
            "fpc": float(np.nanmax(np.abs(twin.curves["fpc"] - reference.curves["fpc"]))),
            "iterations": (twin.iterations, reference.iterations)}


def compare_sizes(args) -> None:
    """``--compare-skfuzzy``: the two cmeans at every size, on the planted matrix and (with
    ``--logits``) on the synthetic logits' correlations; a table and the goal line."""
    results = {}
    for m in args.classes:
        started = time.perf_counter()
        inputs = {"planted": planted_similarity(m, args.samples)[0]}
        if args.logits:
            inputs[f"logits, {args.logits:,} samples"] = logits_similarity(m, args.logits)
        print(f"\n{m:,} classes (matrices built in {time.perf_counter() - started:.1f} s)",
              flush=True)
        for label, similarity in inputs.items():
            results[m, label] = compare_cmeans(similarity, label, args.repeats)
        del inputs, similarity  # before the next size's matrices
    print(f"\n{'classes':>8}  {'matrix':<26} {'compiled twin':>13} {'scikit-fuzzy':>13} "
          f"{'speed-up':>9}   {'fits: twin':>10} {'scikit-fuzzy':>13} {'speed-up':>9}  results")
    for (m, label), found in results.items():
        fits = found["skfuzzy fits"] / found["twin fits"]
        print(f"{m:>8,}  {label:<26} {found['twin']:>11.2f} s {found['skfuzzy']:>11.2f} s "
              f"{found['skfuzzy'] / found['twin']:>8.1f}x   {found['twin fits']:>8.2f} s "
              f"{found['skfuzzy fits']:>11.2f} s {fits:>8.1f}x  "
              f"{'same' if found['same'] else 'DIFFERENT'}")
    m, target = CMEANS_GOAL
    for (size, label), found in results.items():
        if size == m:
            speedup = found["skfuzzy"] / found["twin"]
            goal(f"groups_cmeans_speedup_{label.split(',')[0]}", f"fuzzy_groups, compiled cmeans "
                 f"vs scikit-fuzzy's, {label} (fuzzy c-means issue)", speedup, target, unit="x",
                 cmp=">=", size=f"{m:,} classes", same_results=found["same"])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[2_622, 5_000, 20_000])
    parser.add_argument("--samples", type=int, default=4_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of the cheap contenders")
    parser.add_argument("--dense-up-to", type=int, default=5_000,
                        help="run the dense anchor up to this many classes")
    parser.add_argument("--compare-skfuzzy", action="store_true",
                        help="only time fuzzy_groups with the compiled cmeans against "
                             "scikit-fuzzy's")
    parser.add_argument("--logits", type=int, default=0, metavar="SAMPLES",
                        help="with --compare-skfuzzy, also on synthetic logits of SAMPLES rows")
    args = parser.parse_args(argv)

    # Warm up: imports, scikit-fuzzy, numba's cached code, BLAS threads; 700 classes take the
    # Krylov path.
    warm, _, _ = planted_similarity(700, 500)
    bg.fuzzy_groups(warm)
    if args.compare_skfuzzy:
        compare_cmeans(warm, "warm-up, 700 classes", 1)
        compare_sizes(args)
        return
    results = {m: one_size(m, args.samples, args.repeats, m <= args.dense_up_to)
               for m in args.classes}

    print(f"\n{'classes':>8} {'fuzzy_groups':>13} {'spectrum':>9} {'dense fuzzy_groups':>19} "
          f"{'dense spectrum':>15} {'speed-up':>9} {'(spectrum)':>10}")
    for m, found in results.items():
        seconds, spectrum = found["krylov"]
        dense = found.get("dense")
        print(f"{m:>8,} {seconds:>11.2f} s {spectrum:>7.2f} s "
              + (f"{dense[0]:>17.2f} s {dense[1]:>13.2f} s {dense[0] / seconds:>8.1f}x "
                 f"{dense[1] / spectrum:>9.1f}x"
                 if dense else f"{'-':>19} {'-':>15} {'-':>9} {'-':>10}"))
    for m, target in GOALS.items():
        if m in results:
            seconds = results[m]["findings"]
            print(f"goal: the groups step (find_groups) on {m:,} classes under {target:.0f} s: "
                  f"{seconds:.1f} s, {'met' if seconds < target else 'MISSED'}")
            goal(f"groups_{m // 1000}k_time", f"groups step (find_groups), {m:,} classes "
                 "(groups issue)", seconds, target, unit="s", cmp="<", size=f"{m:,} classes")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KB on Linux -> GB
    print(f"goal: peak resident memory under {MEMORY_GOAL_GB:.0f} GB: {peak:.1f} GB, "
          f"{'met' if peak < MEMORY_GOAL_GB else 'MISSED'}")
    largest = max(results)
    goal("groups_memory", "groups benchmark peak resident memory (groups issue)", peak,
         MEMORY_GOAL_GB, unit="GB", cmp="<", size=f"up to {largest:,} classes",
         at_size=largest >= 20_000, note="ru_maxrss of the whole benchmark process")


if __name__ == "__main__":
    main()
