"""The key that signs sessions and API tokens, read by settings.py before Django is set up.

Without DJANGO_SECRET_KEY a local run makes a random key on its first start and keeps it in a
file the repository ignores: sessions and tokens survive a restart, and no two checkouts share
a key. A key that was ever published in envadmin's source signs nothing, wherever it comes from.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Anyone who has read the source can sign sessions and tokens with these.
PUBLISHED_KEYS = frozenset({"envadmin-insecure-development-key-change-me"})
MINIMUM_LENGTH = 32


def refuse_published(setting: str, key: str, *, production: bool = False) -> str:
    if key.strip() in PUBLISHED_KEYS:
        raise ImproperlyConfigured(
            f"{setting} is a key published in envadmin's source: set a random one (50+ characters)."
        )
    if production and len(key) < MINIMUM_LENGTH:
        # A short key can be guessed; with it, sessions, password-reset links and tokens.
        raise ImproperlyConfigured(
            f"{setting} is {len(key)} characters: production needs a random key of at least "
            f"{MINIMUM_LENGTH} (50+ recommended)."
        )
    return key


def local_key(path: Path) -> str:
    """The key kept in `path`, made on first use. Processes starting together (gunicorn's
    workers) agree on one: the first file linked into place wins, and nothing reads a half-
    written file."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key) < MINIMUM_LENGTH:
        raise ImproperlyConfigured(
            f"{path} holds no usable key: delete it and a new one is made at the next start."
        )
    return key
