"""Write the corpus inputs that are binary or large into a folder.

Small text inputs live in ``files/`` as they are; everything here is made by code so that the
repository holds no opaque blobs and large inputs (a decompression bomb) cost no disk.

    python tests/bad_inputs/make_corpus.py /tmp/corpus
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

#: name -> function(path) writing that input; each category's module adds its makers here.
MAKERS: dict = {}


def maker(name: str):
    """Register a function writing the input ``name`` (a file name inside the folder)."""

    def register(function):
        if name in MAKERS:
            raise ValueError(f"two makers for {name}")
        MAKERS[name] = function
        return function

    return register


def good_scores(n: int = 60, m: int = 6, seed: int = 0) -> np.ndarray:
    """Scores with structure: two groups of classes sharing a latent factor."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 2))
    group = np.arange(m) % 2
    return (latent[:, group] + 0.5 * rng.normal(size=(n, m))).astype(np.float32)


def make(folder: Path) -> Path:
    """Write every registered input into ``folder``; return it."""
    from bad_inputs.corpus import all_cases

    all_cases()  # the case modules register their makers when imported
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, function in MAKERS.items():
        function(folder / name)
    return folder


@maker("good.npy")
def _good_npy(path: Path) -> None:
    np.save(path, good_scores())


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bad_inputs.make_corpus import make as make_all  # the module the cases register in

    print(make_all(Path(sys.argv[1])))


@maker("taxonomy-partial.csv")
def _partial_taxonomy(path: Path) -> None:
    path.write_text("class,path\nclass_0,a/b\n", encoding="utf-8")


@maker("taxonomy-full.csv")
def _full_taxonomy(path: Path) -> None:
    rows = [f"class_{j},{'even' if j % 2 == 0 else 'odd'}/class_{j}" for j in range(6)]
    path.write_text("class,path\n" + "\n".join(rows) + "\n", encoding="utf-8")
