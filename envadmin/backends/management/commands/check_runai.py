"""python manage.py check_runai: can envadmin reach, and sign in to, the configured Run:ai?"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from envadmin.accounts.access import Caller
from envadmin.contract.errors import BackendError


class Command(BaseCommand):
    help = (
        "Connect to RUNAI_URL, authenticate with RUNAI_CLIENT_ID/RUNAI_CLIENT_SECRET (or the "
        "options), and print what was found: clusters with their versions, and counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", help="Run:ai base URL (default: RUNAI_URL)")
        parser.add_argument("--client-id", help="default: RUNAI_CLIENT_ID")
        parser.add_argument("--client-secret", help="default: RUNAI_CLIENT_SECRET")
        parser.add_argument("--json", action="store_true", help="print the findings as JSON")

    def handle(self, *args, **options):
        from envadmin.backends import runai
        from envadmin.runai.tokens import ServiceAccountTokens

        url = options["url"] or settings.RUNAI_URL
        client_id = options["client_id"] or settings.RUNAI_CLIENT_ID
        secret = options["client_secret"] or settings.RUNAI_CLIENT_SECRET
        if not url:
            raise CommandError("No Run:ai URL: set RUNAI_URL or pass --url.")
        if not (client_id and secret):
            raise CommandError(
                "No credentials: set RUNAI_CLIENT_ID and RUNAI_CLIENT_SECRET "
                "(or pass --client-id and --client-secret)."
            )
        settings.RUNAI_URL = url
        client = runai.shared_client()
        tokens = ServiceAccountTokens(client, client_id, secret)
        try:
            caller = Caller(client_id, "app", token=tokens.token())
            backend = runai.RunaiBackend()
            clusters = backend.list_clusters(caller, {})
            found = {
                "url": url,
                "clusters": [
                    {"name": c.get("name"), "uuid": c.get("uuid"), "version": c.get("version")}
                    for c in clusters
                ],
                "departments": len(backend.list_departments(caller, {"limit": 500})["departments"]),
                "projects": len(backend.list_projects(caller, {"limit": 500})["projects"]),
                "environments": len(backend.list_environments(caller, {})["entries"]),
            }
        except BackendError as error:
            detail = f" ({error.details})" if error.details else ""
            raise CommandError(f"{url}: {error.message}{detail}") from None
        if options["json"]:
            self.stdout.write(json.dumps(found, indent=2))
            return
        self.stdout.write(
            self.style.SUCCESS(f"Connected to {url} and authenticated as {client_id}.")
        )
        for cluster in found["clusters"]:
            version = cluster["version"] or "version not reported"
            self.stdout.write(f"  cluster {cluster['name']} ({cluster['uuid']}): {version}")
        self.stdout.write(
            f"  {found['departments']} departments, {found['projects']} projects, "
            f"{found['environments']} environments visible to this account"
        )
