"""Suppress a real weekly report and attack it: count hidden cells and anything recovered.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python manage.py \
        seed_demo --encounters 100000 --seed 7 --force
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python \
        benchmarks/audit_suppression.py [--week YYYY-Www] [--weeks N] [--synthetic SEED]

Builds the figures (``report_data``) and the disproportionality tables for the week (default:
the latest complete week) and the N - 1 weeks before it; where the figures have no ``effects``
yet, pools the reoffending rows into effects rows (counts as SPEC §6 says, placeholder
estimates) so the pooling relations are exercised too. It then prints how many count cells
primary and secondary suppression hide, how long suppression took, and what the independent
attacker in ``tests/reports/attacker.py`` recovers: from primary suppression alone (the old
behaviour), and from the suppressed report every human rendering shows (which should be
nothing). The attacker knows the boroughs' roles and pilot dates (public), so it reads a hidden
diverted count in a comparison borough as 0, and a "not applicable" rate as its terms being 0.
``--synthetic SEED`` instead audits a made-up report full of small numbers (33
boroughs, 20 cohorts, no database needed) to show the audit at scale.
"""

import argparse
import os
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path


def count_cells(shown: dict, original: dict) -> tuple[Counter, Counter, Counter]:
    """Count cells, primary-hidden and secondary-hidden cells by section."""
    from reports.suppression import SECONDARY, SECTION_COUNTS, SUPPRESSED

    cells, primary, secondary = Counter(), Counter(), Counter()
    for section, fields in SECTION_COUNTS.items():
        for row, before in zip(shown.get(section) or [], original.get(section) or [], strict=True):
            for field in fields:
                if isinstance(before.get(field), int):
                    cells[section] += 1
                    primary[section] += row[field] == SUPPRESSED
                    secondary[section] += row[field] == SECONDARY
    return cells, primary, secondary


def primary_only(data: dict) -> dict:
    """Return the report as it was shown before secondary suppression."""
    from reports import suppression as s

    row_functions = {
        "activity": s.suppress_activity_row,
        "ineligibility_reasons": s.suppress_reason_row,
        "referrals": s.suppress_referral_row,
        "reoffending": s.suppress_reoffending_row,
        "disproportionality": s.suppress_disproportionality_row,
    }
    out = dict(data)
    for section, function in row_functions.items():
        rows = [function(row) for row in data.get(section) or []]
        out[section] = rows
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--week", help="ISO week; default: the latest complete week")
    parser.add_argument("--weeks", type=int, default=1, help="how many weeks up to --week")
    parser.add_argument("--synthetic", type=int, help="audit a made-up report from this seed")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.utils import timezone

    from reports.weeks import parse_week, week_just_ended

    if args.synthetic is not None:
        totals = audit_report("synthetic", synthetic_report(args.synthetic), {})
        return 1 if totals["recovered"] else 0
    last = args.week or week_just_ended(timezone.localdate())
    monday = date.fromisoformat(parse_week(last)[0].isoformat())
    totals = Counter()
    for back in range(args.weeks - 1, -1, -1):
        year, number, _ = (monday - timedelta(weeks=back)).isocalendar()
        totals += audit_week(f"{year}-W{number:02d}")
    if args.weeks > 1:
        print(
            f"all {args.weeks} weeks: {totals['cells']} cells, {totals['primary']} primary, "
            f"{totals['secondary']} secondary, {totals['known']} fixed at 0 by the rules; "
            f"attacker recovered {totals['leaked']} after "
            f"primary alone and {totals['recovered']} after secondary suppression"
        )
    return 1 if totals["recovered"] else 0


def audit_week(week: str) -> Counter:
    """Suppress and attack one week's report, print its figures and return its totals."""
    from boroughs.models import Borough
    from reports.known_zeros import borough_windows
    from reports.measure import disproportionality, report_data

    data = report_data(week=week)
    data["disproportionality"] = disproportionality(week=week)
    data.setdefault("effects", pooled_effects(data["reoffending"]))
    windows = borough_windows(Borough.objects.values_list("gss_code", flat=True))
    return audit_report(f"week {week}", data, windows)


def synthetic_report(seed: int) -> dict:
    """Make a report with many small numbers: 33 boroughs, 20 monthly cohorts, both groups."""
    import random

    from tests.reports.test_disclosure_audit import activity, reoffending_row, with_all

    rnd = random.Random(seed)
    boroughs = [f"B{i:02d}" for i in range(33)]
    rows = []
    for cohort in range(20):
        for group in ("diverted", "comparison"):
            for borough in boroughs:
                size = rnd.choice([0, 1, 2, 3, 5, 8, 12, 20, 40])
                for months in (3, 6, 12) if cohort < 18 else (3,):
                    if size:
                        reoffenders = rnd.randint(0, size)
                        label = (
                            f"2025-{cohort + 1:02d}" if cohort < 12 else f"2026-{cohort - 11:02d}"
                        )
                        rows.append(
                            reoffending_row(
                                label,
                                group,
                                borough,
                                months,
                                size,
                                reoffenders,
                                reoffenders + rnd.randint(0, 3),
                            )
                        )
    parts = [tuple(rnd.choice([0, 1, 2, 3, 6, 9, 15]) for _ in range(4)) for _ in boroughs]
    data = {
        "activity": activity(dict(zip(boroughs, parts, strict=True))),
        "reoffending": with_all(rows),
    }
    data["effects"] = pooled_effects(data["reoffending"])
    return data


def audit_report(label: str, data: dict, windows: dict) -> Counter:
    """Suppress and attack one report, print its figures and return its totals.

    The attacker reads the report as the renderings show it (``suppress_report``: a withheld
    rate is told apart from one that is not applicable).
    """
    from reports.known_zeros import known_zero_cells
    from reports.suppression import suppress_report
    from tests.reports.attacker import attack

    started = time.perf_counter()
    shown = suppress_report(data)
    took = time.perf_counter() - started
    cells, primary, secondary = count_cells(shown, data)
    print(f"{label}: suppression took {took:.2f} s")
    print(f"{'section':<24}{'cells':>8}{'primary':>9}{'secondary':>11}")
    for section in cells:
        print(f"{section:<24}{cells[section]:>8}{primary[section]:>9}{secondary[section]:>11}")
    total = sum(cells.values())
    print(f"{'total':<24}{total:>8}{sum(primary.values()):>9}{sum(secondary.values()):>11}")
    known = len(known_zero_cells(data, windows))
    print(f"cells the rules fix at 0 (public, never cover): {known}")
    started = time.perf_counter()
    leaked = attack(primary_only(data), windows=windows)
    recovered = attack(shown, windows=windows)
    print(f"attacker on primary suppression alone: {len(leaked)} hidden cells recovered")
    print(f"attacker on the suppressed report: {len(recovered)} hidden cells recovered")
    print(f"(attacks took {time.perf_counter() - started:.2f} s)\n")
    return Counter(
        cells=total,
        primary=sum(primary.values()),
        secondary=sum(secondary.values()),
        leaked=len(leaked),
        known=known,
        recovered=len(recovered),
    )


def pooled_effects(reoffending: list[dict]) -> list[dict]:
    """Pool every reportable cohort into effects rows (SPEC §6 counts, placeholder estimates)."""
    pooled: dict[tuple, Counter] = {}
    for row in reoffending:
        counts = pooled.setdefault((row["borough"], row["months"]), Counter())
        counts[f"{row['group']}_size"] += row["cohort_size"]
        counts[f"{row['group']}_reoffenders"] += row["reoffenders"]
    estimates = ("risk_difference", "rd_low", "rd_high", "relative_risk", "rr_low", "rr_high")
    return [
        {
            "borough": borough,
            "months": months,
            **{k: counts[k] for k in ("diverted_size", "diverted_reoffenders")},
            **{k: counts[k] for k in ("comparison_size", "comparison_reoffenders")},
            **dict.fromkeys(estimates, 0.0),
        }
        for (borough, months), counts in sorted(pooled.items())
        if counts["diverted_size"] and counts["comparison_size"]
    ]


if __name__ == "__main__":
    sys.exit(main())
