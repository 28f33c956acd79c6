"""A newcomer reaches the rules from the README, inside the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_links_to_the_rules_and_decisions_in_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme
    links = re.findall(r"\]\(([^)#]+)", readme)
    assert "docs/rules.md" in links and "docs/decisions.md" in links
    for link in links:
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link


def test_rules_cover_every_section_a_newcomer_needs():
    rules = (ROOT / "docs" / "rules.md").read_text()
    for heading in [
        "## 2. Eligibility",
        "## 3. Referrals",
        "## 4. The reoffending measure",
        "## 5. The weekly report",
        "## 6. Small numbers: suppression",
        "## 7. Commands and files",
    ]:
        assert heading in rules
    for term in ["`effects`", "Secondary suppression", "--suppressed", "`[c]`", "Newcombe"]:
        assert term in rules


def test_scaling_is_reachable_from_the_readme_and_the_performance_figures():
    readme = (ROOT / "README.md").read_text()
    performance = (ROOT / "docs" / "performance.md").read_text()
    scaling = (ROOT / "docs" / "scaling.md").read_text()
    assert "](docs/scaling.md)" in readme and "](scaling.md)" in performance
    assert "DATABASE_REPLICA_URL" in readme and "](performance.md)" in scaling
