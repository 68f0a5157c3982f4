"""The key that signs sessions and tokens: never one published in the source; a local run makes
its own on the first start and keeps it in a file git ignores."""

import concurrent.futures
import shutil
import stat
import subprocess

import jwt
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from .test_security import ROOT, run_django
from .test_token_and_auth import (
    assert_granted,
    assert_unauthorized,
    get_environments,
    request_token,
)

PUBLISHED = "envadmin-insecure-development-key-change-me"
PRINT_KEYS = (
    "from django.conf import settings; print(settings.SECRET_KEY); "
    "print(settings.ENVADMIN_TOKEN_SECRET)"
)


@pytest.mark.parametrize("setting", ["DJANGO_SECRET_KEY", "ENVADMIN_TOKEN_SECRET"])
@pytest.mark.parametrize("secure", ["0", "1"])
def test_settings_refuse_to_start_with_the_published_key(tmp_path, setting, secure):
    env = {"DJANGO_SECRET_KEY": "x" * 50, setting: PUBLISHED, "DJANGO_SECURE": secure}
    done = run_django(PRINT_KEYS, tmp_path, DJANGO_ALLOWED_HOSTS="envadmin.example.com", **env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"{setting} is a key published" in done.stderr


def test_settings_refuse_a_key_file_holding_the_published_key(tmp_path):
    key_file = tmp_path / "secret-key"
    key_file.write_text(PUBLISHED + "\n")
    done = run_django(PRINT_KEYS, tmp_path, ENVADMIN_SECRET_KEY_FILE=str(key_file))
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr


def test_a_token_signed_with_the_published_key_is_refused(db, settings):
    get_user_model().objects.create_user("alice", password="s3cret-pass")
    body = assert_granted(
        request_token(
            APIClient(), {"grantType": "password", "username": "alice", "password": "s3cret-pass"}
        )
    )
    assert get_environments(body["accessToken"]).status_code == 200

    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    forged = jwt.encode(claims, PUBLISHED, algorithm="HS256")
    assert_unauthorized(get_environments(forged))
    assert PUBLISHED not in (settings.SECRET_KEY, settings.ENVADMIN_TOKEN_SECRET)


def local_start(tmp_path, key_file):
    """Settings as `make run` reads them: no DJANGO_SECRET_KEY, no DJANGO_SECURE."""
    done = run_django(PRINT_KEYS, tmp_path, ENVADMIN_SECRET_KEY_FILE=str(key_file))
    assert done.returncode == 0, done.stderr
    secret_key, token_secret = done.stdout.split()
    return secret_key, token_secret


def test_a_local_run_makes_a_random_key_on_its_first_start_and_keeps_it(tmp_path):
    key_file = tmp_path / "state" / "secret-key"
    first, token_secret = local_start(tmp_path, key_file)
    assert len(first) >= 50
    assert first != PUBLISHED
    assert token_secret == first
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    assert local_start(tmp_path, key_file)[0] == first  # a restart keeps sessions and tokens
    other = local_start(tmp_path, tmp_path / "elsewhere" / "secret-key")[0]
    assert other != first


def test_processes_starting_together_agree_on_one_key(tmp_path):
    key_file = tmp_path / "secret-key"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        keys = list(pool.map(lambda _: local_start(tmp_path, key_file)[0], range(4)))
    assert len(set(keys)) == 1
    assert [path.name for path in tmp_path.iterdir()] == ["secret-key"]  # no drafts left


def test_production_demands_a_key_and_makes_no_file(tmp_path):
    key_file = tmp_path / "secret-key"
    done = run_django(
        PRINT_KEYS, tmp_path, DJANGO_SECURE="1", ENVADMIN_SECRET_KEY_FILE=str(key_file)
    )
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY" in done.stderr
    assert not key_file.exists()


def test_the_default_key_file_is_ignored_by_git(settings):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    relative = settings.ENVADMIN_SECRET_KEY_FILE.relative_to(ROOT)
    assert relative.as_posix() == ".envadmin/secret-key"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(relative)], cwd=ROOT)
    assert ignored.returncode == 0


@pytest.mark.parametrize("setting", ["DJANGO_SECRET_KEY", "ENVADMIN_TOKEN_SECRET"])
def test_production_refuses_a_key_short_enough_to_guess(tmp_path, setting):
    env = {"DJANGO_SECRET_KEY": "x" * 50, setting: "short", "DJANGO_SECURE": "1"}
    done = run_django(PRINT_KEYS, tmp_path, DJANGO_ALLOWED_HOSTS="envadmin.example.com", **env)
    assert done.returncode != 0
    assert f"{setting} is 5 characters" in done.stderr
