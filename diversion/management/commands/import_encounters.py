"""``import_encounters PATH``: import historical encounters from a CSV file (SPEC §7)."""

from pathlib import Path
from typing import NoReturn

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from diversion.csv_import import utf8_problem_line
from diversion.imports import ImportFailed, encounters_import

# Each worker process holds about 75 MB; past a few cores more only cost memory.
MAX_WORKERS = 16


class Command(BaseCommand):
    help = (
        "Import historical encounters from a CSV file, judging each with the policy in force "
        "on its date. Imports nothing if any row is wrong, and lists every problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the encounters CSV file (UTF-8, with a header row)")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes to check rows in (default: the IMPORT_WORKERS setting; 1: none)",
        )

    def handle(self, *args, path: str, workers: int | None = None, **options) -> None:
        if workers is not None and not 1 <= workers <= MAX_WORKERS:
            raise CommandError(f"Enter a number of workers from 1 to {MAX_WORKERS}")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"There is no file at {path}")
        line = utf8_problem_line(file)
        if line is not None:
            self._fail([f"line {line}, file: The file must be saved as UTF-8 text"])
        try:
            # utf-8-sig reads files with or without the byte order mark spreadsheets add; the
            # file is read as a stream, so its size does not decide the memory the import needs.
            with file.open(encoding="utf-8-sig", newline="") as stream:
                result = encounters_import(
                    stream=stream,
                    source_name=file.name,
                    workers=settings.IMPORT_WORKERS if workers is None else workers,
                )
        except ImportFailed as exc:
            self._fail(exc.errors)
        self.stdout.write(result.summary())

    def _fail(self, errors: list[str]) -> NoReturn:
        """List every problem on its own line, then stop with a non-zero exit."""
        for error in errors:
            self.stderr.write(error)
        if getattr(self, "_called_from_command_line", False):
            # Django prints this message too: don't list every problem twice.
            count = len(errors)
            raise CommandError(
                f"Nothing was imported: the file has {count} "
                f"problem{'' if count == 1 else 's'}, listed above."
            )
        raise CommandError("\n".join(errors))
