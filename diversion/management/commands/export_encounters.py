"""``export_encounters [--output PATH]``: the pseudonymised encounters CSV (SPEC §7)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diversion.exports import encounters_export


class Command(BaseCommand):
    help = (
        "Write every encounter as pseudonymised CSV for analysts: no names, dates of birth "
        "or references to people. Writes to standard output when no path is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="file to write (standard output when not given)")

    def handle(self, *args, output: str | None, **options) -> None:
        if not output:
            encounters_export(stream=self.stdout)
            return
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"There is no folder at {path.parent}")
        with path.open("w", encoding="utf-8", newline="") as stream:
            count = encounters_export(stream=stream)
        self.stderr.write(f"Exported {count} encounter{'' if count == 1 else 's'} to {path}.")
