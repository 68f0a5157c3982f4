"""envadmin's settings with a key made for this test run: the suite never reads or writes the
key file of `make run`. The servers the tests start inherit it from the environment."""

import os
import secrets

os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

from envadmin.settings import *  # noqa: E402, F403
