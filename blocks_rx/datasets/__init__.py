"""Example and demo data that needs no download: two real classifiers and planted structure.

Three sources, each a function returning a plain dict of arrays (or :class:`blocks_rx.Scores`):

- **langid** (real, :mod:`blocks_rx.datasets.langid`): langid's 97-language model scoring
  3,760 texts built from the CLDR locale data (embedded here, made once with Babel 2.18.0).
  :func:`load_langid_demo` gives the raw arrays (``scores``, ``classes``, ``codes``,
  ``labels``, ``texts``; scored in a few seconds, then cached, see
  :func:`default_cache_dir`); :func:`langid_scores` gives ``(Scores, texts)``. Needs
  ``pip install 'blocks-rx[demo]'`` (langid).
- **digits** (real, :mod:`blocks_rx.datasets.digits`): :func:`digits_classifier`, a
  logistic regression on scikit-learn's bundled 8x8 digits, scored on the held-out half
  (``scores``, ``labels``, ``predictions``, ``classes``, ``images``). Needs scikit-learn.
- **planted** (synthetic, :mod:`blocks_rx.datasets.planted`): scores with a known structure
  that no offline real data has: :func:`planted_taxonomy` (two-level taxonomy, long tail),
  :func:`planted_multilabel` (multi-label, star classes) and :func:`planted_overlaps`
  (failed and split groups). numpy only.

Every dict has ``scores`` (n_samples x n_classes logits) and ``classes``, so any of them goes
straight into the API:

>>> import blocks_rx
>>> from blocks_rx.datasets import planted_taxonomy
>>> data = planted_taxonomy(600, seed=1)
>>> scores = blocks_rx.load_scores(data["scores"], classes=data["classes"])
>>> ordering = blocks_rx.order_classes(blocks_rx.compute_similarity(scores, warn=False))
>>> len(ordering.ordered_classes), sorted(set(data["taxonomy"].values()))[:2]
(60, ['indoor/in0', 'indoor/in1'])

The real ones the same way (``scores, texts = langid_scores()``; ``digits_classifier()``).
Importing this package imports neither langid, babel, scikit-learn, torch nor
matplotlib.pyplot; each function imports what it needs when called.
"""

from .digits import digits_classifier
from .langid import default_cache_dir, langid_scores, load_langid_demo
from .planted import planted_multilabel, planted_overlaps, planted_taxonomy

__all__ = ["default_cache_dir", "digits_classifier", "langid_scores", "load_langid_demo",
           "planted_multilabel", "planted_overlaps", "planted_taxonomy"]
