from django.core.management.base import BaseCommand, CommandError

from envadmin.inventory.models import Cluster, Environment
from envadmin.snapshot import loader


class Command(BaseCommand):
    help = "Load clusters, departments, projects, environments, workloads, templates and users."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Snapshot YAML file")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds an org tree or environments.",
        )

    def handle(self, *args, file, if_empty, **options):
        if if_empty and (Cluster.objects.exists() or Environment.objects.exists()):
            self.stdout.write("The database already holds data: snapshot not loaded.")
            return
        try:
            counts = loader.load(loader.read_file(file))
        except loader.SnapshotError as exc:
            listing = "\n".join(f"  - {problem}" for problem in exc.problems)
            raise CommandError(f"{file}: nothing was loaded.\n{listing}") from None
        summary = ", ".join(f"{count} {section}" for section, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Loaded {summary} from {file}."))
