"""Deprecated: the langid demo moved to :mod:`blocks_rx.datasets.langid` (the recipe of its
texts to :mod:`blocks_rx.datasets.langid_recipe`)."""

import warnings

from .datasets.langid import CACHE_NAME, default_cache_dir, load_langid_demo  # noqa: F401
from .datasets.langid_recipe import (MIN_NAMES, SEED, TEXTS_PER_LANGUAGE,  # noqa: F401
                                     WORDS_PER_TEXT)

warnings.warn("blocks_rx.demo is now blocks_rx.datasets.langid", DeprecationWarning, stacklevel=2)
