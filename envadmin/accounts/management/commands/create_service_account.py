import json
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from envadmin.accounts.models import AccessRule, Role, ServiceAccount, SubjectType
from envadmin.contract.choices import POLICY_SCOPES
from envadmin.inventory.models import scope_key
from envadmin.inventory.orgtree import OrgTree


def normalised_id(scope: str, scope_id: str) -> str:
    """The id as scope keys spell it: a cluster uuid in lower case, a project id as a number."""
    try:
        if scope == "cluster":
            return str(uuid.UUID(scope_id))
        if scope == "project":
            return str(int(scope_id))
    except ValueError:
        raise CommandError(f"There is no {scope} with id {scope_id}.") from None
    return scope_id


class Command(BaseCommand):
    help = "Create a service account with one access rule; prints its clientId and clientSecret."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--scope", required=True, choices=POLICY_SCOPES)
        parser.add_argument("--scope-id", help="Id of the cluster, department or project.")

    def handle(self, *args, name, role, scope, scope_id, **options):
        if scope == "tenant":
            if scope_id:
                raise CommandError("--scope-id is not used with --scope tenant.")
            key = "tenant"
        else:
            if not scope_id:
                raise CommandError(f"--scope {scope} needs --scope-id.")
            key = scope_key(scope, normalised_id(scope, scope_id))
            if key not in OrgTree.load():
                raise CommandError(f"There is no {scope} with id {scope_id}.")
        taken = CommandError(f"A service account named '{name}' already exists.")
        if ServiceAccount.objects.filter(name=name).exists():
            raise taken
        try:
            with transaction.atomic():
                account, secret = ServiceAccount.create(name)
                AccessRule.objects.create(
                    subject_type=SubjectType.APPLICATION,
                    subject=account.client_id,
                    role=role,
                    scope_key=key,
                )
        except IntegrityError:  # created by a concurrent run since the check above
            raise taken from None
        self.stdout.write(json.dumps({"clientId": account.client_id, "clientSecret": secret}))
