"""A process-wide memo of verdicts, kept across requests.

It never needs invalidating because a key holds everything its answer is computed from: the
judges' signatures (what they read of their policies), the environment's spec text and
supported types, its placement's visibility, and its id when a policy imposes it. A write of a
policy or of an environment changes what the next request reads, hence the key it asks for;
the old answer is simply never asked for again. Bounded in entries and in the characters of
the keys' texts: once full, the oldest half is dropped (again, until the new entry fits).
"""

from itertools import islice
from threading import Lock


class VerdictMemo:
    def __init__(self, max_entries: int, max_chars: int):
        self.max_entries, self.max_chars = max_entries, max_chars
        self._answers: dict = {}
        self._chars = 0
        self._lock = Lock()  # a gthread worker's threads share the memo

    def get(self, key):
        found = self._answers.get(key)
        return None if found is None else found[0]

    def put(self, key, answer, chars: int) -> None:
        """Keep `answer`; `chars`: the size of the key's own texts (a spec is most of it)."""
        with self._lock:
            if key in self._answers or chars > self.max_chars:
                return
            if len(self._answers) >= self.max_entries:
                self._drop_oldest_half()
            while self._chars + chars > self.max_chars:
                self._drop_oldest_half()
            self._answers[key] = (answer, chars)
            self._chars += chars

    def _drop_oldest_half(self) -> None:
        for key in list(islice(self._answers, max(1, len(self._answers) // 2))):
            self._chars -= self._answers.pop(key)[1]

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self._chars = 0

    def __len__(self) -> int:
        return len(self._answers)
