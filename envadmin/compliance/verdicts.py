"""Verdicts kept across requests: a list asks for the same environments against the same
policies again and again, and judging each one is most of its cost.

A verdict is kept under a digest of everything the judge reads: its policy and placement (the
judge's `context`), the environment's supported types, its id where the policy imposes it, and
its spec text. Any change to one of them is a new key, so a kept verdict is never stale; it is
never invalidated, only evicted. BLAKE2b of 16 bytes: two inputs sharing a key would take some
2**64 tries to find, and a key costs 49 bytes instead of the spec text's kilobytes.
"""

from hashlib import blake2b

DIGEST_SIZE = 16
# Keys kept per process, both generations together: about 90 bytes each plus its answer's text,
# which rows alike in verdict share. A warm list of up to half this size is answered from it.
LIMIT = 240_000


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


class Verdicts:
    """A bounded map of two generations: new keys go to the young one; when it is full it
    becomes the old one and the previous old one is dropped; a key found in the old one moves
    back to the young one. What a list reads again stays; memory stays under `limit` keys
    (plus one per thread racing the swap).

    Threads share it without a lock: each step is one dict operation or one swap of
    references, and whatever a race loses is only a verdict to judge again."""

    def __init__(self, limit: int = LIMIT):
        self.half = max(1, limit // 2)
        self.young: dict[bytes, str] = {}
        self.old: dict[bytes, str] = {}

    def get(self, key: bytes) -> str | None:
        found = self.young.get(key)
        if found is None:
            found = self.old.get(key)
            if found is not None:
                self.put(key, found)
        return found

    def put(self, key: bytes, verdict: str) -> None:
        young = self.young
        young[key] = verdict
        if len(young) >= self.half:
            self.old, self.young = young, {}

    def __len__(self) -> int:
        return len(self.young) + len(self.old)


VERDICTS = Verdicts()  # per process: each worker keeps its own
