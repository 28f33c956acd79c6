"""``import_reoffences PATH`` (SPEC §7): import reoffence matches, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diversion.reoffence_imports import ReoffenceImportFailed, reoffences_import


class Command(BaseCommand):
    help = (
        "Import reoffence matches from a CSV with columns "
        "person_ref,offence_date,offence_type,source_ref. A file with any error imports nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="CSV file (UTF-8, header row)")

    def handle(self, *args, path: str, **options) -> None:
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"There is no file at {path}")
        try:
            with file.open(encoding="utf-8-sig", newline="") as stream:
                result = reoffences_import(stream=stream, source_name=file.name)
        except UnicodeDecodeError as exc:
            raise CommandError(f"line 1, file: The file must be UTF-8 text ({exc.reason})") from exc
        except ReoffenceImportFailed as exc:
            raise CommandError(
                f"Nothing was imported. Fix these {len(exc.errors)} error(s) and try again:\n"
                + "\n".join(exc.errors)
            ) from exc
        self.stdout.write(
            f"Imported {result.imported} reoffence(s); {result.unchanged} were already recorded."
        )
