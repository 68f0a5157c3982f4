"""Which events a caller may read; each backend picks one of the two ways.

By scope (envadmin's own database): the events of every scope node the caller can view (their
rules over the org tree, as for environments); a rule on the tenant shows all, including events
of nodes deleted since. By actor (Run:ai): Run:ai alone knows who may see what, and envadmin
cannot ask it about environments that no longer exist, so a caller sees the events they made
themselves; a local superuser of the web admin sees every event.
"""

from django.db.models import QuerySet

from envadmin.accounts.access import Access, Caller
from envadmin.inventory.orgtree import OrgTree

from .models import AuditEvent


def events_by_scope(caller: Caller) -> QuerySet:
    events = AuditEvent.objects.all()
    if any(key == "tenant" for _, key in caller.rules):
        return events
    return events.filter(scope_key__any=Access(caller, OrgTree.load()).visible)


def events_by_actor(caller: Caller, *, local_superuser: bool = False) -> QuerySet:
    events = AuditEvent.objects.all()
    return events if local_superuser else events.filter(actor=caller.subject)
