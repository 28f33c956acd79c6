"""Check the installed dependencies against pip-audit's vulnerability database.

Policy: a known vulnerability with a fixed release fails CI (upgrade the pin); one with no fix
yet is printed as a warning for a person to judge, since CI failing cannot make it go away.
When the database cannot be reached (no network), say so plainly and pass: that is not a
clean bill of health, and the message says it is not.

Usage: python .ci/audit_dependencies.py [path to pip-audit]
"""

import json
import subprocess
import sys


def audit(pip_audit: str) -> subprocess.CompletedProcess:
    """Run pip-audit on this environment (our own editable project aside) as JSON."""
    command = [pip_audit, "--format", "json", "--progress-spinner", "off", "--skip-editable"]
    return subprocess.run(  # nosec B603
        [*command, "--timeout", "20"], capture_output=True, text=True, timeout=300
    )


def verdict(report: dict) -> tuple[list[str], list[str]]:
    """Split found vulnerabilities into those a release fixes and those none does yet."""
    fixable, unfixed = [], []
    for dependency in report.get("dependencies", []):
        for vuln in dependency.get("vulns", []):
            line = f"{dependency['name']} {dependency['version']}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(f"{line} (no fixed release yet)")
    return fixable, unfixed


def unchecked(reason: str) -> int:
    """Say plainly that nothing was checked, and why; pass, as a network outage is no finding."""
    print("pip-audit gave no report (could not reach its vulnerability database?),")
    print(f"so NOTHING WAS CHECKED. Its last message: {reason}")
    return 0


def main() -> int:
    try:
        result = audit(sys.argv[1] if len(sys.argv) > 1 else "pip-audit")
    except subprocess.TimeoutExpired:
        return unchecked("did not finish within 5 minutes")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return unchecked((result.stderr.strip().splitlines() or ["no output"])[-1])
    fixable, unfixed = verdict(report)
    for line in unfixed:
        print(f"WARNING {line}")
    for line in fixable:
        print(f"VULNERABLE {line}")
    dependencies = report.get("dependencies", [])
    audited = sum(1 for d in dependencies if "skip_reason" not in d)
    if dependencies and not audited:
        # Every package skipped: the package index's vulnerability data could not be reached.
        return unchecked(dependencies[0]["skip_reason"])
    print(
        f"pip-audit: {audited} packages audited; vulnerabilities: {len(fixable)} with a fix, "
        f"{len(unfixed)} without"
    )
    return 1 if fixable else 0


if __name__ == "__main__":
    sys.exit(main())
