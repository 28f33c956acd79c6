"""``set_borough GSS --role pilot|comparison|none [--start DATE] [--end DATE]`` (SPEC §7).

``--reason TEXT`` (optional) is kept in the borough's history with the change.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from boroughs.models import Borough
from boroughs.services import borough_configure
from diversion.validators import parse_iso_date


def _parse_date(value: str | None, option: str, errors: list[str]) -> date | None:
    """Read a YYYY-MM-DD date, noting a plain message in ``errors`` when it is not one."""
    if value is None or value == "":
        return None
    try:
        return parse_iso_date(value)
    except ValueError:
        errors.append(f"{option} must be a real date in the form YYYY-MM-DD, not {value!r}.")
        return None


class Command(BaseCommand):
    help = "Configure a borough's part in the pilot: its role and pilot start and end dates."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("gss", help="ONS GSS code, e.g. E09000023 for Lewisham")
        parser.add_argument("--role", required=True, help="pilot, comparison or none")
        parser.add_argument("--start", help="first day of the pilot (YYYY-MM-DD, inclusive)")
        parser.add_argument("--end", help="last day of the pilot (YYYY-MM-DD, inclusive)")
        parser.add_argument("--reason", default="", help="why, kept in the borough's history")

    def handle(
        self,
        *args,
        gss: str,
        role: str,
        start: str | None,
        end: str | None,
        reason: str = "",
        **options,
    ) -> None:
        errors: list[str] = []
        gss = gss.strip().upper()
        if not Borough.objects.filter(gss_code=gss).exists():
            errors.append(
                f"There is no London borough with GSS code {gss!r}. "
                "Codes run from E09000001 (City of London) to E09000033 (Westminster)."
            )
        if role not in Borough.Role.values:
            errors.append(f"--role must be pilot, comparison or none, not {role!r}.")
        pilot_start = _parse_date(start, "--start", errors)
        pilot_end = _parse_date(end, "--end", errors)
        if errors:
            raise CommandError("\n".join(errors))
        try:
            borough = borough_configure(
                gss_code=gss,
                role=role,
                pilot_start=pilot_start,
                pilot_end=pilot_end,
                change_reason=reason,
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        dates = ""
        if borough.pilot_start:
            end_text = f"{borough.pilot_end:%Y-%m-%d}" if borough.pilot_end else "no end date"
            dates = f" from {borough.pilot_start:%Y-%m-%d} to {end_text}"
        self.stdout.write(f"{borough.name} ({borough.gss_code}) is now {borough.role}{dates}.")
