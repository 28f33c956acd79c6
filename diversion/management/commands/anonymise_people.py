"""``anonymise_people [--dry-run] [--user NAME]``: apply the retention rule now."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from audit.services import command_actor
from diversion.retention import people_anonymise


class Command(BaseCommand):
    help = (
        "Remove the name, date of birth, PNC ID and encounter locations of people whose last "
        "12-month follow-up closed more than RETENTION_MONTHS ago. The nightly schedule does "
        "the same; --dry-run only counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument("--user", help="who runs this, for the audit trail (default: OS user)")

    def handle(self, *args, dry_run: bool, user: str | None, **options) -> None:
        count = people_anonymise(
            dry_run=dry_run, by=command_actor(username=user), channel="command"
        )
        people = f"{count} {'person' if count == 1 else 'people'}"
        months = settings.RETENTION_MONTHS
        if dry_run:
            self.stdout.write(f"{people} would be anonymised (retention {months} months).")
        else:
            self.stdout.write(f"{people} anonymised (retention {months} months).")
