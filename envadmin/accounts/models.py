"""Subjects that call envadmin and the access rules that say what they may do."""

import hashlib
import hmac
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import models


class Role(models.TextChoices):
    SYSTEM_ADMINISTRATOR = "System administrator"
    ENVIRONMENT_ADMINISTRATOR = "Environment administrator"
    RESEARCH_MANAGER = "Research manager"
    L1_RESEARCHER = "L1 researcher"
    L2_RESEARCHER = "L2 researcher"
    VIEWER = "Viewer"


# Reference §6: these roles may create, edit and delete environments in their scope.
ENVIRONMENT_WRITER_ROLES = frozenset(
    {
        Role.SYSTEM_ADMINISTRATOR,
        Role.ENVIRONMENT_ADMINISTRATOR,
        Role.RESEARCH_MANAGER,
        Role.L1_RESEARCHER,
    }
)


class SubjectType(models.TextChoices):
    USER = "user"
    GROUP = "group"
    APPLICATION = "app"


class AccessRule(models.Model):
    subject_type = models.CharField(max_length=8, choices=SubjectType.choices)
    subject = models.CharField(max_length=255, db_index=True)
    role = models.CharField(max_length=64, choices=Role.choices)
    # The scope node the rule covers, as inventory.models.scope_key() spells it.
    scope_key = models.CharField(max_length=80)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject", "role", "scope_key"], name="access_rule_unique"
            )
        ]

    def __str__(self):
        return f"{self.subject_type}:{self.subject} {self.role} @ {self.scope_key}"


class ServiceAccount(models.Model):
    """An application's credentials for the client_credentials (and app_token) grant."""

    name = models.CharField(max_length=255, unique=True)
    client_id = models.CharField(max_length=64, unique=True)
    secret_hash = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name

    @classmethod
    def create(cls, name: str) -> tuple["ServiceAccount", str]:
        """Create an account; the plain secret is returned once and never stored."""
        secret = secrets.token_urlsafe(32)
        account = cls.objects.create(
            name=name, client_id=str(uuid.uuid4()), secret_hash=hash_secret(secret)
        )
        return account, secret

    def check_secret(self, secret: str) -> bool:
        if self.secret_hash.startswith(f"{SECRET_HASH}$"):
            _, salt, _ = self.secret_hash.split("$", 2)
            return hmac.compare_digest(hash_secret(secret, salt), self.secret_hash)
        return check_password(secret, self.secret_hash)  # accounts made before: a password hash


# Client secrets are 256 random bits, not passwords: nobody can guess them, so a slow hash adds
# no safety, only half a second of CPU to every token grant (bench/load.py measured it).
SECRET_HASH = "sha256"


def hash_secret(secret: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}${secret}".encode()).hexdigest()
    return f"{SECRET_HASH}${salt}${digest}"


class TokenGeneration(models.Model):
    """A user's tokens carry the generation they were issued in: deactivating the user moves it
    on, so reactivating them does not bring back the tokens issued before."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="token_generation",
    )
    generation = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.user_id}: {self.generation}"

    @classmethod
    def advance(cls, user) -> None:
        if not cls.objects.filter(user=user).update(generation=models.F("generation") + 1):
            cls.objects.create(user=user, generation=1)
