"""What the trial store tells the rest of the service, so the store imports none of it."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by the app after a load committed new versions of existing trials, with
# `nct_ids` (a tuple). A receiver returns lines worth telling whoever ran the load.
trials_changed = _signals.signal("trials-changed")
