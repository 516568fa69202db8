"""Embedded real demo: langid's 97-language classifier scoring texts built from CLDR data.

The texts ship inside this package (``langid_texts.json.gz``, 3,760 texts, 158 KB): each is
a bag of a locale's own territory, language, month and day names from the Unicode CLDR data
(real text in that language's script), made once by :mod:`blocks_rx.datasets.langid_recipe`
from Babel 2.18.0 (CLDR 47). They are embedded rather than rebuilt from whichever Babel is
installed because every Babel release updates CLDR and so changes the texts, the scores and
the groups the demo finds. ``langid`` (its trained model ships in its PyPI package) scores
them, so the demo needs no download; its raw log-probabilities over all 97 languages are the
scores.

:func:`load_langid_demo` returns the raw arrays (cached after the first call);
:func:`langid_scores` returns them as :class:`blocks_rx.Scores` plus the texts.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

#: Bump whenever the recipe changes, so that an old cache is never read as the new one
#: (v2: the embedded texts; v1 built them from the Babel installed).
CACHE_NAME = "langid-demo-v2.npz"
#: The embedded texts, their languages and the classes' names (see the module docstring).
TEXTS_FILE = Path(__file__).with_name("langid_texts.json.gz")
_INSTALL_HINT = "the langid demo needs langid: pip install 'blocks-rx[demo]' (or pip install langid)"


def _import_langid():
    try:
        from langid import langid
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return langid


@lru_cache(maxsize=1)
def _identifier():
    # Unpacking the model takes about a second; do it once per process.
    langid = _import_langid()
    return langid.LanguageIdentifier.from_modelstring(langid.model, norm_probs=False)


def embedded_texts() -> dict:
    """The embedded texts: ``texts``, ``labels`` (each text's column), ``codes`` and
    ``classes`` (langid's 97 languages, as ``"English name (code)"``) and ``made_with`` (the
    Babel and CLDR versions they were built from).

    >>> found = embedded_texts()
    >>> len(found["texts"]), found["classes"][26], found["made_with"]["babel"]
    (3760, 'French (fr)', '2.18.0')
    """
    with gzip.open(TEXTS_FILE, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _score_texts(texts: list[str]) -> np.ndarray:
    """Raw langid scores, one column per language in ``nb_classes`` order (with a progress
    bar on stderr when it is a terminal: the first run scores every text)."""
    from ..progress import progress

    ident = _identifier()
    column = {code: j for j, code in enumerate(ident.nb_classes)}
    scores = np.empty((len(texts), len(column)), dtype=np.float64)
    shown = progress(texts, desc="demo: langid scoring", unit="text")
    for i, text in enumerate(shown):
        for code, score in ident.rank(text):
            scores[i, column[code]] = score
    return scores.astype(np.float32)


def default_cache_dir() -> Path:
    """``$BLOCKS_RX_CACHE``, else ``$XDG_CACHE_HOME/blocks-rx``, else ``~/.cache/blocks-rx``."""
    if os.environ.get("BLOCKS_RX_CACHE"):
        return Path(os.environ["BLOCKS_RX_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "blocks-rx"


def _compute() -> dict:
    embedded = embedded_texts()
    codes = list(_identifier().nb_classes)
    if codes != embedded["codes"]:
        raise RuntimeError(f"this langid model's languages differ from those the embedded demo "
                           f"texts were labelled with ({TEXTS_FILE.name}); the demo needs "
                           "langid 1.1.6's model")
    return {
        "scores": _score_texts(embedded["texts"]),
        "classes": embedded["classes"],
        "codes": codes,
        "labels": np.asarray(embedded["labels"], dtype=np.int64),
        "texts": embedded["texts"],
    }


def load_langid_demo(cache_dir=None, *, refresh: bool = False) -> dict:
    """Load the langid demo: a real 97-class classifier's scores on real texts.

    The first call scores the embedded texts with langid (a few seconds) and caches the
    result as an ``.npz``; later calls read the cache.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Folder for the cache file; defaults to :func:`default_cache_dir`.
    refresh : bool, default False
        Recompute and rewrite the cache even if it exists.

    Returns
    -------
    dict
        ``scores`` (float32, n_texts x 97, raw log-probabilities), ``classes`` (97
        ``"English name (code)"`` strings), ``codes`` (97 langid codes), ``labels`` (int64
        column index of each text's language) and ``texts`` (list of str).

    Raises
    ------
    ImportError
        If langid is not installed.

    Examples
    --------
    >>> demo = load_langid_demo()
    >>> demo["scores"].shape[1], demo["classes"][26]
    (97, 'French (fr)')
    """
    path = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = path / CACHE_NAME
    if path.exists() and not refresh:
        try:
            with np.load(path, allow_pickle=False) as z:
                return {
                    "scores": z["scores"],
                    "classes": z["classes"].tolist(),
                    "codes": z["codes"].tolist(),
                    "labels": z["labels"],
                    "texts": z["texts"].tolist(),
                }
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # a damaged cache is rebuilt below rather than failing the caller
    data = _compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a reader never sees a half-written cache.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".langid-demo-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **{k: np.asarray(v) if isinstance(v, list) else v
                            for k, v in data.items()})
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return data


def langid_scores(cache_dir=None):
    """The langid demo as :class:`blocks_rx.Scores` (raw log-probabilities), plus its texts.

    ``scores.labels`` holds each text's language (column index); ``cache_dir`` is passed to
    :func:`load_langid_demo`.

    Examples
    --------
    >>> scores, texts = langid_scores()
    >>> scores.n_classes, len(texts) == scores.n_samples
    (97, True)
    """
    from ..scores import load_scores

    data = load_langid_demo(cache_dir)
    return load_scores(data["scores"], classes=data["classes"], labels=data["labels"]), data["texts"]
