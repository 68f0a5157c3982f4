"""Who is calling, and which scope nodes they may see and change (reference §6).

A rule on a node covers its whole subtree. Assets of the node's ancestors are usable there, so
they are visible too, but only writable by a rule that covers them.
"""

from dataclasses import dataclass, field

from .models import ENVIRONMENT_WRITER_ROLES, AccessRule, Role, SubjectType


@dataclass(frozen=True)
class Caller:
    subject: str
    subject_type: str = SubjectType.USER
    rules: tuple[tuple[str, str], ...] = ()  # (role, scope_key)
    # The bearer token as received: a proxy backend forwards it unchanged.
    token: str | None = field(default=None, repr=False, compare=False)
    # Or, for a signed-in UI user in proxy mode, where to get (and renew) their token.
    token_provider: object | None = field(default=None, repr=False, compare=False)
    # Where the call came from, for the audit trail: "api" or "ui", and the client's address.
    origin: str = field(default="api", compare=False)
    address: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def with_rules_from_db(cls, subject: str, subject_type: str, token=None) -> "Caller":
        rules = AccessRule.objects.filter(subject_type=subject_type, subject=subject).values_list(
            "role", "scope_key"
        )
        return cls(subject, subject_type, tuple(rules), token)


class Access:
    """A caller's reach over one loaded org tree."""

    def __init__(self, caller: Caller, tree):
        self.caller = caller
        self.visible: set[str] = set()
        self.writable: set[str] = set()
        self.policy_writable: set[str] = set()
        for role, key in caller.rules:
            subtree = tree.subtree(key)
            self.visible |= subtree | set(tree.chain(key))
            if role in ENVIRONMENT_WRITER_ROLES:
                self.writable |= subtree
            if role == Role.SYSTEM_ADMINISTRATOR:
                # Policies bind every workload below them: only system administrators write
                # them, over the subtree their rule covers (our rule, see the README).
                self.policy_writable |= subtree

    def can_view(self, key: str) -> bool:
        return key in self.visible

    def can_write(self, key: str) -> bool:
        return key in self.writable

    def can_write_policy(self, key: str) -> bool:
        return key in self.policy_writable
