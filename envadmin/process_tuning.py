"""How envadmin steers CPython's memory management for its large answers, in one place.

A list of 10,000 environments is half a million small objects, built and then dropped within one
request. Left to itself the cyclic garbage collector walks them several times while they are
built, and the answer lives on after it is sent, held by a reference cycle through DRF's
response. Both cost more than building the list (bench/scale.py measures them):

- `paused_gc` stops cyclic collection while a list is built (LocalBackend.list_environments);
- `release_after_render` cuts the response's cycle once the body is written (the API views);
- `freeze_after_start` (wsgi.py) keeps what the served application loaded (about 100,000
  objects: Django, DRF, the URLconf, the views) out of every collection, so the full collections
  that ordinary requests trigger walk only what requests made (tens of ms saved each).

Reference counting still frees everything as usual; only the cyclic collector is steered.
"""

import gc
from contextlib import contextmanager

FULL_COLLECTION_EVERY = 16
_promotions = 0
_frozen_at_start = False  # freeze_after_start() was called: a served process


@contextmanager
def paused_gc():
    """No cyclic garbage collection while a large list is built: it makes hundreds of
    thousands of small, acyclic objects, and the collector's repeated passes over them cost
    more than building them. Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _promote_young_objects()
            gc.enable()


def _promote_young_objects():
    """Count what was built as old rather than young. Re-enabled with the list still alive,
    the collector's next young pass would walk every object of it (half a million for 10,000
    entries, most of that request's time growth); they are freed by reference counting once
    the response is sent. freeze() then unfreeze() moves every tracked object to the oldest
    generation without walking them, so any cycle among them is left to the next full
    collection. Skipped when the process keeps objects frozen on purpose (pre-fork servers)."""
    global _promotions
    if _frozen_at_start:
        # The application's objects are frozen: freeze() alone moves the young ones out of the
        # collector's way too, and the periodic full collection unfreezes everything first.
        gc.freeze()
        _promotions += 1
        if _promotions >= FULL_COLLECTION_EVERY:
            _promotions = 0
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        return
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
        # What was alive then (the request, its org tree, their reference cycles) is old now,
        # and CPython starts a full collection only as objects age normally: bound that memory
        # with a full collection every FULL_COLLECTION_EVERY promotions (a few ms, amortized).
        _promotions += 1
        if _promotions >= FULL_COLLECTION_EVERY:
            _promotions = 0
            gc.collect()


def release_after_render(response) -> None:
    """A post-render callback for a DRF response. Its response, view and request refer to one
    another, so the answer (a list of thousands of documents, then megabytes of JSON) would live
    on until the collector finds that cycle; after paused_gc, only at a full collection. Once
    rendered, the data is not needed and the cycle through the response is cut, so reference
    counting frees them."""
    context = response.renderer_context or {}
    view = context.get("view")
    if getattr(view, "response", None) is response:
        view.response = None
    response.renderer_context = None
    response.data = None


def freeze_after_start():
    """Once the application is loaded, before the first request: its objects live as long as
    the process, so the collector need not walk them again and again (a full collection of
    them took 15 to 200 ms on 2 busy cores). Objects a request makes are collected as usual."""
    global _frozen_at_start
    gc.collect()
    gc.freeze()
    _frozen_at_start = True
