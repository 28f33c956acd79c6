"""``export_encounters [--output PATH] [--user NAME]``: the pseudonymised encounters CSV (SPEC §7).

Every run is audited under ``--user`` or, without it, the operating-system account.
"""

from pathlib import Path
from typing import TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.models import Action
from audit.services import audit_record, command_actor
from diversion.exports import encounters_export


class Command(BaseCommand):
    help = (
        "Write every encounter as pseudonymised CSV for analysts: no names, dates of birth "
        "or references to people. Writes to standard output when no path is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="file to write (standard output when not given)")
        parser.add_argument(
            "--user", help="who is exporting, for the audit trail (default: the OS account)"
        )

    def handle(self, *args, output: str | None, user: str | None = None, **options) -> None:
        by = command_actor(username=user)
        if not output:
            self.stdout.ending = ""  # the CSV brings its own line ends; chunks end anywhere
            count = encounters_export(stream=cast(TextIO, self.stdout))
            self._audit(by, count, "standard output")
            return
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"There is no folder at {path.parent}")
        with path.open("wb") as stream:
            count = encounters_export(stream=stream)
        self._audit(by, count, "a file")
        self.stderr.write(f"Exported {count} encounter{'' if count == 1 else 's'} to {path}.")

    def _audit(self, by, count: int, where: str) -> None:
        audit_record(
            by=by,
            action=Action.ENCOUNTERS_EXPORT,
            detail=f"rows: {count}; to {where}",
            channel="command",
        )
