"""Verdicts kept across requests: a list or the matrix asks for the same environments against
the same policies again and again, and judging each one is most of its cost.

A verdict is kept under a digest of everything the judges read: their policies and placement
(each judge's `context`), the environment's supported types, its id where a policy imposes it,
and its spec text (`Keys`). Any change to one of them is a new key, so a kept verdict is never
stale; it is never invalidated, only evicted. BLAKE2b of 16 bytes: two inputs sharing a key
would take some 2**64 tries to find, and a key costs 49 bytes instead of the spec text's
kilobytes. One bounded map (`Verdicts`) keeps the list's verdicts, the matrix's and the
matrix's markup of them.
"""

from hashlib import blake2b

DIGEST_SIZE = 16
# Keys kept per process, both generations together: about 90 bytes each (a list's digest; a
# matrix's 64-digit text key, `key_of_digest`, some 160: 80 MB at most) plus
# its answer (a list's text or a matrix row's cells), which rows alike in verdict share. What
# is read again within half this many keys is answered from it: two whole lists of 100,000
# with their matrices. Past that a list moves its keys from the old generation to the young
# one, or judges them again once both have turned over (at 240,000, a whole list of 100,000
# beside a matrix took 4.1 to 4.4 s, against 3.8 to 4.1 s at 500,000: one run each).
LIMIT = 500_000
# Characters of distinct answer texts kept, both generations together: a reason quotes values
# and option lists, so 100,000 distinct verdicts of kilobytes each must not stay for ever.
BUDGET = 64_000_000
OTHER_WEIGHT = 256  # an answer that is not a text (a matrix row's cells): its nominal size


def hasher(*parts: str) -> "blake2b":
    """A digest started with `parts`; copy it and feed the rest."""
    return feed(blake2b(digest_size=DIGEST_SIZE), *parts)


def feed(digest: "blake2b", *parts: str) -> "blake2b":
    """`digest` fed each part with its length first, so no two lists of parts feed it the same
    bytes."""
    for part in parts:
        data = part.encode()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest


class Keys:
    """The keys of one request's verdicts. `contexts(placement key)` is the text of what the
    judges read besides the environment (their contexts for that placement); `imposed` the ids
    of environments a policy imposes, whose keys hold their id too. The digest fed all but the
    spec is started once per placement, supported types and imposed id."""

    def __init__(self, contexts, imposed: frozenset):
        self.contexts, self.imposed = contexts, imposed
        self.placed: dict[str, str] = {}
        self.started: dict[tuple, blake2b] = {}
        self.prefixes: dict[tuple, str] = {}

    def key(self, scope_key: str, types, env_id: str, spec: str) -> bytes:
        digest = self._started(self._alike(scope_key, types, env_id)).copy()
        digest.update(spec.encode())
        return digest.digest()

    def key_of_digest(self, scope_key: str, types, env_id: str, spec_digest: str) -> str:
        """The key of a spec known by its digest (inventory/listing.spec_digest, 32 hex
        digits): the digest of all the rest in hex, then it. Nothing is hashed per row, and
        a text key never equals a `key` (bytes)."""
        alike = self._alike(scope_key, types, env_id)
        prefix = self.prefixes.get(alike)
        if prefix is None:
            prefix = self.prefixes[alike] = self._started(alike).hexdigest()
        return prefix + spec_digest

    def _alike(self, scope_key: str, types, env_id: str) -> tuple:
        """What rows judged alike share: placement key, imposed id or "", supported types."""
        return (scope_key, env_id if env_id in self.imposed else "", *types)

    def _started(self, alike: tuple) -> "blake2b":
        """The digest fed all but the spec, for (placement key, imposed id or "", *types)."""
        started = self.started.get(alike)
        if started is None:
            scope_key, imposed_id, *types = alike
            context = self.placed.get(scope_key)
            if context is None:
                context = self.placed[scope_key] = self.contexts(scope_key)
            started = self.started[alike] = hasher(context, repr(tuple(types)), imposed_id)
        return started


class _Generation:
    __slots__ = ("answers", "texts", "size")

    def __init__(self):
        self.answers: dict = {}
        self.texts: dict[str, str] = {}  # each distinct answer text once, shared by its keys
        self.size = 0  # characters of those texts, plus OTHER_WEIGHT per other answer


class Verdicts:
    """A bounded map of two generations: new keys go to the young one; when it is full (half
    the keys, or half the characters of distinct texts) it becomes the old one and the previous
    old one is dropped; a key found in the old one moves back to the young one. What a list
    reads again stays; memory stays under `limit` keys and `budget` characters (plus what
    threads racing the swap add). A key is a `Keys` digest, or anything hashable that holds all
    its answer depends on; an answer is never None.

    Threads share it without a lock: each step is one dict operation or one swap of
    references, and whatever a race loses is only a verdict to judge again (or a size
    miscounted by one answer)."""

    def __init__(self, limit: int = LIMIT, budget: int = BUDGET):
        self.half = max(1, limit // 2)
        self.half_budget = max(1, budget // 2)
        self.young = _Generation()
        self.old = _Generation()

    def get(self, key):
        found = self.young.answers.get(key)
        if found is None:
            found = self.old.answers.get(key)
            if found is not None:
                self.put(key, found)
        return found

    def put(self, key, answer) -> None:
        young = self.young
        if isinstance(answer, str):
            shared = young.texts.get(answer)
            if shared is None:
                young.texts[answer] = answer
                young.size += len(answer)
            else:
                answer = shared
        else:
            young.size += OTHER_WEIGHT
        young.answers[key] = answer
        if len(young.answers) >= self.half or young.size >= self.half_budget:
            self.old, self.young = young, _Generation()

    def __len__(self) -> int:
        return len(self.young.answers) + len(self.old.answers)


VERDICTS = Verdicts()  # per process: each worker keeps its own
