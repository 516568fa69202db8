"""Synthetic classifiers with *planted* structure, where no offline real data has it.

Real data that ships inside packages (langid's languages, scikit-learn's digits) has no
known multi-level taxonomy, no long-tailed label distribution and no multi-label ground
truth. These generators plant each of those, so a figure or a test can say exactly what the
method should recover.

Both simulate a linear classifier: every class ``j`` has a prototype ``p_j`` built from a
top-level, a second-level and a class-specific direction, a sample of class ``y`` is
``p_y + noise``, and its logits are the dot products with all prototypes. Classes that share
taxonomy levels therefore share score patterns, as in a trained network.
"""

from __future__ import annotations

import numpy as np

#: Top-level groups and the short codes their class names start with.
TOP_GROUPS = {"indoor": "in", "outdoor-natural": "nat", "outdoor-man-made": "man"}


def _prototypes(rng, top_groups, subgroups, per_subgroup, dim, weights):
    """Unit prototypes and the class -> (top, sub) structure."""
    if not isinstance(top_groups, dict):
        top_groups = {name: name[:3] for name in top_groups}
    codes = list(top_groups.values())
    top_groups = list(top_groups)
    n_top = len(top_groups)
    n_classes = n_top * subgroups * per_subgroup
    top = np.repeat(np.arange(n_top), subgroups * per_subgroup)
    sub = np.repeat(np.arange(n_top * subgroups), per_subgroup)
    directions = [rng.normal(size=(count, dim)) for count in (n_top, n_top * subgroups, n_classes)]
    protos = (weights[0] * directions[0][top] + weights[1] * directions[1][sub]
              + weights[2] * directions[2])
    protos /= np.linalg.norm(protos, axis=1, keepdims=True)
    names = [f"{codes[t]}{s % subgroups}-{j}" for j, (t, s) in enumerate(zip(top, sub))]
    paths = [f"{top_groups[t]}/{codes[t]}{s % subgroups}" for t, s in zip(top, sub)]
    return protos, top, sub, names, paths


def planted_taxonomy(
    n_samples: int = 3000,
    *,
    top_groups=TOP_GROUPS,
    subgroups: int = 4,
    per_subgroup: int = 5,
    imbalance: float = 1.3,
    noise: float = 0.25,
    dim: int = 48,
    seed: int = 0,
) -> dict:
    """A single-label classifier over a two-level taxonomy, with long-tailed class frequencies.

    Class frequencies follow a Zipf law with exponent ``imbalance`` over a random order of
    the classes, so some classes have hundreds of samples and many only a handful: the
    regime where confusion matrices are sparse and dominated by frequent classes. With the
    defaults the classifier is about 93% accurate, so errors are few as well.

    Returns
    -------
    dict
        ``scores`` (n, m) float32 logits, ``labels`` (n,) true classes, ``classes`` names,
        ``taxonomy`` {class: "top/sub"}, ``top`` and ``sub`` (m,) planted group indices.

    Examples
    --------
    >>> data = planted_taxonomy(600, seed=1)
    >>> data["scores"].shape, len(data["taxonomy"])
    ((600, 60), 60)
    """
    rng = np.random.default_rng(seed)
    protos, top, sub, names, paths = _prototypes(rng, top_groups, subgroups, per_subgroup, dim,
                                                 (1.0, 0.8, 0.6))
    m = len(names)
    weights = 1.0 / np.arange(1, m + 1) ** imbalance
    weights = weights[rng.permutation(m)]
    labels = rng.choice(m, size=n_samples, p=weights / weights.sum())
    x = protos[labels] + noise * rng.normal(size=(n_samples, dim)) / np.sqrt(dim) * 4
    scores = (8.0 * x @ protos.T).astype(np.float32)
    return {"scores": scores, "labels": labels, "classes": names,
            "taxonomy": dict(zip(names, paths)), "top": top, "sub": sub}


def planted_multilabel(
    n_samples: int = 5000,
    *,
    top_groups=("music", "animal", "vehicle", "inside", "outside"),
    subgroups: int = 3,
    per_subgroup: int = 6,
    star_classes: int = 3,
    dim: int = 48,
    seed: int = 0,
) -> dict:
    """A multi-label classifier (independent sigmoids) with a taxonomy and *star* classes.

    Each sample has one to four labels, mostly from one top-level group; a few star classes
    (generic labels like "music") are added to a large share of all samples, so they
    co-occur with very many others, as Music and Speech do in AudioSet. Label frequencies
    are long-tailed.

    Returns
    -------
    dict
        ``scores`` (n, m) float32 logits, ``labels`` (n, m) 0/1 multi-hot, ``classes``,
        ``taxonomy``, ``top``, and ``stars`` (indices of the star classes).

    Examples
    --------
    >>> data = planted_multilabel(500, seed=2)
    >>> data["labels"].shape == data["scores"].shape
    True
    """
    rng = np.random.default_rng(seed)
    protos, top, sub, names, paths = _prototypes(rng, top_groups, subgroups, per_subgroup, dim,
                                                 (1.0, 0.7, 0.6))
    m = len(names)
    stars = np.sort(rng.choice(m, size=star_classes, replace=False))
    popularity = 1.0 / np.arange(1, m + 1) ** 1.2
    popularity = popularity[rng.permutation(m)]
    labels = np.zeros((n_samples, m), dtype=np.uint8)
    for i in range(n_samples):
        group = rng.integers(len(top_groups))
        members = np.flatnonzero(top == group)
        p = popularity[members] / popularity[members].sum()
        count = min(rng.integers(1, 5), len(members))
        labels[i, rng.choice(members, size=count, replace=False, p=p)] = 1
        if rng.random() < 0.08:  # a stray label from anywhere
            labels[i, rng.integers(m)] = 1
    for rank, star in enumerate(stars):
        labels[rng.random(n_samples) < 0.45 / (rank + 1), star] = 1
    x = labels @ protos / np.maximum(labels.sum(axis=1, keepdims=True), 1)
    x += 0.35 * rng.normal(size=(n_samples, dim)) / np.sqrt(dim) * 4
    scores = (6.0 * x @ protos.T - 2.0).astype(np.float32)
    return {"scores": scores, "labels": labels, "classes": names,
            "taxonomy": dict(zip(names, paths)), "top": top, "stars": stars}


def planted_overlaps(
    n_samples: int = 3000,
    *,
    subgroups: int = 8,
    per_subgroup: int = 10,
    seed: int = 0,
) -> dict:
    """Scores with two top-level groups, an overlapping *failed* group and a *split* group.

    Like the paper's VGGFace example: the top level (gender) dominates; a feature shared by
    a few classes from *both* top-level groups (glasses) makes them alike, but hclust
    scatters them because each sits more firmly in its own subgroup; and one subgroup of
    each top-level group share a strong factor (monochrome photos), a dense off-diagonal
    block that hclust keeps split across the top level.

    Returns
    -------
    dict
        ``scores`` (n, m) float32, ``classes``, ``top`` and ``sub`` (m,), ``failed``
        (indices of the planted failed group) and ``split`` (two index arrays).

    Examples
    --------
    >>> data = planted_overlaps(500, seed=1)
    >>> data["scores"].shape, len(data["failed"]), [len(s) for s in data["split"]]
    ((500, 80), 8, [10, 10])
    """
    rng = np.random.default_rng(seed)
    sub = np.repeat(np.arange(subgroups), per_subgroup)
    top = sub // (subgroups // 2)
    m = sub.size
    scores = (1.2 * rng.normal(size=(n_samples, 2))[:, top]
              + 1.0 * rng.normal(size=(n_samples, subgroups))[:, sub]
              + rng.normal(size=(n_samples, m)))
    # Two classes from each of four subgroups, two subgroups per top-level group.
    donors = (0, 2, subgroups // 2, subgroups // 2 + 2)
    failed = np.concatenate([np.flatnonzero(sub == g)[:2] for g in donors])
    scores[:, failed] += 1.0 * rng.normal(size=(n_samples, 1))
    pair = (1, subgroups // 2 + 1)
    split = [np.flatnonzero(sub == g) for g in pair]
    scores[:, np.concatenate(split)] += 0.8 * rng.normal(size=(n_samples, 1))
    names = [f"{'AB'[t]}{s % (subgroups // 2)}-{j}" for j, (t, s) in enumerate(zip(top, sub))]
    return {"scores": scores.astype(np.float32), "classes": names, "top": top, "sub": sub,
            "failed": failed, "split": split}
