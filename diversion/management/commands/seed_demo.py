"""``seed_demo [--encounters N] [--seed S] [--password P] [--force]`` (SPEC §7).

A thin wrapper: the generator and the bulk writer live in `diversion.demo`.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from diversion import demo


class Command(BaseCommand):
    help = (
        "Fill the database with a realistic synthetic pilot: boroughs, providers, people, "
        "encounters, referrals, reoffences and one demo user per role."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--encounters", type=int, default=20000, help="how many encounters (default 20000)"
        )
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data")
        parser.add_argument(
            "--password",
            default=demo.DEMO_PASSWORD,
            help=f"password for new demo users (default {demo.DEMO_PASSWORD!r})",
        )
        parser.add_argument(
            "--force", action="store_true", help="run even though DEBUG is off (not production!)"
        )

    def handle(self, *args, encounters: int, seed: int, password: str, force: bool, **options):
        errors = []
        if not settings.DEBUG and not force:
            errors.append(
                "seed_demo only runs with DEBUG on, so demo data never reaches a live service. "
                "Use --force if you are sure this database is not a live one."
            )
        if encounters < 0:
            errors.append(f"--encounters must be 0 or more, not {encounters}.")
        if not password:
            errors.append("--password must not be empty.")
        if errors:
            raise CommandError("\n".join(errors))
        if demo.demo_data_exists():
            self.stdout.write("Demo data is already in the database, so nothing was added.")
            self._sign_in_help(password, existing=True)
            return
        every = max(encounters // 20, 50000)
        shown = {"next": every}
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if total >= 50000 and (done >= shown["next"] or done == total):
                rate = done / max(time.monotonic() - started, 1e-9)
                self.stdout.write(f"{done:,} of {total:,} encounters ({rate:,.0f} a second)")
                shown["next"] = done + every

        counts = demo.demo_seed(
            seed=seed, encounters=encounters, password=password, progress=progress
        )
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Made {counts['encounters']:,} encounters of {counts['people']:,} people, "
                f"{counts['referrals']:,} referrals and {counts['reoffences']:,} reoffences "
                f"in {seconds:.1f} seconds."
            )
        )
        self._sign_in_help(password, existing=False)

    def _sign_in_help(self, password: str, *, existing: bool) -> None:
        names = ", ".join(demo.DEMO_USERNAMES)
        self.stdout.write(f"Demo sign-in names: {names}")
        note = " (unless the account existed before the demo data)" if not existing else ""
        if existing:
            note = " (if they were made by seed_demo with the default password)"
        self.stdout.write(f"Demo password: {password}{note}")
