"""Anchor W3C Web Annotation selectors in a trial's canonical text.

Pure functions over plain strings: no Flask, no database. Positions are Unicode code points
(Python indices) into the original text, end exclusive, as the W3C model says.

One module per job, each built on the ones before it:

``folding``      white space folded to single spaces, with a map back to the original text
``selectors``    ``Quote``; reading and writing a ``target.selector`` list (validated)
``scoring``      ``Anchor``; the 50/20/20/2 score of a candidate range (as hypothesis/client)
``exact``        :func:`locate_exact`: the best exact occurrence of the folded quote
``approximate``  :func:`locate_approximate`: re-anchoring in changed text, or None (orphaned)

Callers import from this package; the names below are its public interface.
"""

from __future__ import annotations

from .approximate import locate_approximate
from .exact import locate_exact
from .folding import fold_whitespace
from .scoring import Anchor
from .selectors import (
    MAX_CONTEXT,
    MAX_EXACT,
    Quote,
    SelectorError,
    quote_for_range,
    quote_to_selectors,
    selectors_to_quote,
)

__all__ = [
    "MAX_CONTEXT",
    "MAX_EXACT",
    "Anchor",
    "Quote",
    "SelectorError",
    "fold_whitespace",
    "locate_approximate",
    "locate_exact",
    "quote_for_range",
    "quote_to_selectors",
    "selectors_to_quote",
]
