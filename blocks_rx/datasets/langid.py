"""Embedded real demo: langid's 97-language classifier scoring texts built from CLDR data.

Both ingredients ship inside their PyPI packages (``langid`` carries its trained model,
``babel`` the CLDR locale data), so the demo needs no download. Each text is a bag of a
locale's own territory, language, month and day names, which is real text in that
language's script, and langid's raw log-probabilities over all 97 languages are the scores.

:func:`load_langid_demo` returns the raw arrays (cached after the first call);
:func:`langid_scores` returns them as :class:`blocks_rx.Scores` plus the texts.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

#: Bump whenever the recipe changes, so that an old cache is never read as the new one.
CACHE_NAME = "langid-demo-v1.npz"
TEXTS_PER_LANGUAGE = 40
WORDS_PER_TEXT = (4, 10)
#: Locales with fewer distinct names than this are skipped: too few to build varied texts.
MIN_NAMES = 30
SEED = 0
_INSTALL_HINT = "the langid demo needs langid and babel: pip install langid babel"


def _import_deps():
    try:
        import babel
        from langid import langid
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return langid, babel


@lru_cache(maxsize=1)
def _identifier():
    # Unpacking the model takes about a second; do it once per process.
    langid, _ = _import_deps()
    return langid.LanguageIdentifier.from_modelstring(langid.model, norm_probs=False)


def _locale_names(babel, code: str) -> list[str]:
    """Distinct names from the CLDR file of ``code``'s language alone, sorted.

    Inherited data is left out on purpose: Babel fills gaps from a parent locale, which
    for some languages is another language (Haitian from French, root's "M01" and "Sun"),
    and those texts would not be in the language they are labelled with.
    """
    from babel import localedata

    language = babel.Locale.parse(code).language  # resolves aliases: "tl" is "fil"
    if not localedata.exists(language):
        return []
    data = localedata.load(language, merge_inherited=False)
    names = set(data.get("territories", {}).values()) | set(data.get("languages", {}).values())
    for kind in ("months", "days"):
        wide = data.get(kind, {}).get("format", {}).get("wide")
        names |= set(wide.values()) if isinstance(wide, dict) else set()
    return sorted(n for n in names if n.strip())


def _build_texts(codes: list[str], k: int = TEXTS_PER_LANGUAGE) -> tuple[list[str], list[int]]:
    """``k`` distinct texts per language babel knows; returns texts and their column indices."""
    _, babel = _import_deps()
    texts, labels = [], []
    for col, code in enumerate(codes):
        try:
            pool = _locale_names(babel, code)
        except (ValueError, babel.UnknownLocaleError):
            continue
        if len(pool) < MIN_NAMES:
            continue
        # Seeding by column index (not hash(), which is salted per process) keeps runs identical.
        rng = np.random.default_rng(SEED + col)
        chosen: list[str] = []
        for _ in range(100 * k):
            if len(chosen) == k:
                break
            n = int(rng.integers(WORDS_PER_TEXT[0], WORDS_PER_TEXT[1] + 1))
            text = " ".join(pool[i] for i in rng.choice(len(pool), size=n, replace=False))
            if text not in chosen:
                chosen.append(text)
        texts += chosen
        labels += [col] * len(chosen)
    return texts, labels


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
    _, babel = _import_deps()
    codes = list(_identifier().nb_classes)
    english = babel.Locale("en").languages
    texts, labels = _build_texts(codes)
    return {
        "scores": _score_texts(texts),
        "classes": [f"{english.get(c, c)} ({c})" for c in codes],
        "codes": codes,
        "labels": np.asarray(labels, dtype=np.int64),
        "texts": texts,
    }


def load_langid_demo(cache_dir=None, *, refresh: bool = False) -> dict:
    """Load the langid demo: a real 97-class classifier's scores on real texts.

    The first call builds the data (a few seconds) and caches it as an ``.npz``; later
    calls read the cache.

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
        If langid or babel is not installed.

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
