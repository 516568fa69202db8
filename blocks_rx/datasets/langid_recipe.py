"""How the langid demo's embedded texts were made, from Babel's CLDR locale data.

Run once to (re)write ``blocks_rx/datasets/langid_texts.json.gz``; the demo itself reads that
file and never imports Babel. Each language langid knows gets :data:`TEXTS_PER_LANGUAGE`
distinct texts, each a seeded choice of 4 to 10 names from its own CLDR file (territory,
language, month and day names); languages with fewer than :data:`MIN_NAMES` names are left
out. The embedded file was made with Babel 2.18.0 (CLDR 47); another Babel release gives
other texts::

    pip install babel==2.18.0
    python -m blocks_rx.datasets.langid_recipe blocks_rx/datasets/langid_texts.json.gz
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import numpy as np

TEXTS_PER_LANGUAGE = 40
WORDS_PER_TEXT = (4, 10)
#: Locales with fewer distinct names than this are skipped: too few to build varied texts.
MIN_NAMES = 30
SEED = 0


def _import_babel():
    try:
        import babel
    except ImportError as exc:
        raise ImportError("rebuilding the langid demo's texts needs Babel: "
                          "pip install babel==2.18.0") from exc
    return babel


def locale_names(code: str) -> list[str]:
    """Distinct names from the CLDR file of ``code``'s language alone, sorted.

    Inherited data is left out on purpose: Babel fills gaps from a parent locale, which
    for some languages is another language (Haitian from French, root's "M01" and "Sun"),
    and those texts would not be in the language they are labelled with.
    """
    babel = _import_babel()
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


def build_texts(codes: list[str], k: int = TEXTS_PER_LANGUAGE) -> tuple[list[str], list[int]]:
    """``k`` distinct texts per language Babel knows; returns texts and their column indices."""
    babel = _import_babel()
    texts, labels = [], []
    for col, code in enumerate(codes):
        try:
            pool = locale_names(code)
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


def texts_document(codes: list[str]) -> dict:
    """What ``langid_texts.json.gz`` holds, built with the Babel installed."""
    babel = _import_babel()
    from babel.core import get_cldr_version

    english = babel.Locale("en").languages
    texts, labels = build_texts(codes)
    return {"made_with": {"babel": babel.__version__, "cldr": get_cldr_version()},
            "codes": list(codes), "classes": [f"{english.get(c, c)} ({c})" for c in codes],
            "texts": texts, "labels": labels}


def encode(document: dict) -> bytes:
    """The file's bytes: compact UTF-8 JSON, gzip with no timestamp (the same every time)."""
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as handle:
        handle.write(raw)
    return buffer.getvalue()


def main(argv=None) -> int:
    from .langid import _identifier

    (target,) = argv if argv is not None else sys.argv[1:]
    Path(target).write_bytes(encode(texts_document(list(_identifier().nb_classes))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
