"""Process tuning for large lists (envadmin/process_tuning.py): the garbage collector is paused
while a list is built and enabled again after, what it promotes is collected every so often, and
a rendered answer lets go of its documents."""

import gc

from envadmin import process_tuning
from envadmin.process_tuning import paused_gc

from .factories import add_environments


def test_paused_gc_enables_the_collector_again_without_freezing_anything():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        kept = [{"n": i} for i in range(10_000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert len(kept) == 10_000


def test_what_paused_gc_promotes_is_fully_collected_every_so_often(monkeypatch):
    """Promoted objects wait for a full collection: one runs every FULL_COLLECTION_EVERY lists,
    so reference cycles of earlier requests cannot pile up."""
    full = []
    monkeypatch.setattr(process_tuning, "_promotions", 0)
    monkeypatch.setattr(process_tuning.gc, "collect", lambda *args: full.append(args) or 0)
    for _ in range(2 * process_tuning.FULL_COLLECTION_EVERY):
        with paused_gc():
            pass
    assert full == [(), ()]


def test_an_answer_lets_go_of_its_documents_once_rendered(org, admin):
    """DRF's response, view and request form a reference cycle: once rendered, the documents
    and the cycle through the response are dropped, so reference counting frees them."""
    add_environments(50)
    was_enabled = gc.isenabled()
    gc.collect()  # what earlier tests left in cycles is gone first
    gc.disable()  # only reference counting may free anything here
    try:
        response = admin.get("/api/v1/asset/environment")
        # (not response.json(): the test client keeps its parsed copy in a cycle of its own)
        assert response.status_code == 200 and response.content.count(b'"meta"') > 50
        # The list is streamed from stored fragments (local_list.py): it never holds documents;
        # a DRF answer drops them once rendered.
        assert getattr(response, "data", None) is None
        assert getattr(response, "renderer_context", None) is None
        del response
        alive = [o for o in gc.get_objects() if type(o) is dict and type(o.get("entries")) is list]
        assert alive == []
    finally:
        if was_enabled:
            gc.enable()


def test_a_served_process_freezes_what_it_loaded_and_still_collects_requests_cycles(monkeypatch):
    """After freeze_after_start (wsgi.py) the loaded objects are out of the collector's way; a
    list's objects are frozen with them, and the periodic full collection still frees the
    cycles requests left, then freezes again."""
    monkeypatch.setattr(process_tuning, "_promotions", 0)
    monkeypatch.setattr(process_tuning, "_frozen_at_start", False)
    try:
        process_tuning.freeze_after_start()
        loaded = gc.get_freeze_count()
        assert loaded > 0 and process_tuning._frozen_at_start

        class Cyclic:
            pass

        with paused_gc():
            kept = [[i] for i in range(10_000)]  # lists: always tracked by the collector
            cycle = Cyclic()
            cycle.me = cycle
        assert gc.get_freeze_count() >= loaded + 10_000  # moved, not walked by the next pass
        del cycle
        alive = lambda: [o for o in gc.get_objects() if type(o) is Cyclic]  # noqa: E731
        assert alive() == []  # frozen objects are not in get_objects(): it is out of reach
        for _ in range(process_tuning.FULL_COLLECTION_EVERY - 1):
            with paused_gc():
                pass
        gc.unfreeze()
        assert alive() == [], "the periodic full collection freed the request's cycle"
        assert len(kept) == 10_000
    finally:
        gc.unfreeze()
