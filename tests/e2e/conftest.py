"""Browser tests: Playwright drives Debian's Chromium against Django's live server.

They skip, saying how to install Chromium, on a machine that has none.
"""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User

from tests.conftest import totp_code

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Playwright runs an event loop in the test thread; the ORM calls in these tests are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"Chromium not found at {CHROMIUM}: install it with "
                        "`apt-get update && apt-get install -y chromium` to run browser tests"
                    )
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def sign_in(page, live_server):
    """Sign in through the real form, as a person would."""

    def _sign_in(username: str, password: str) -> None:
        page.goto(f"{live_server.url}/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if "/two-factor/verify/" in page.url:
            # Admins and approvers then type the code their authenticator app shows.
            page.get_by_label("Code").fill(totp_code(User.objects.get(username=username)))
            page.get_by_role("button", name="Continue").click()

    return _sign_in


@pytest.fixture(autouse=True)
def _live_server_reference_data(reference_data):
    """Every browser test needs the boroughs, roles and policy that migrations ship."""


def axe_violations(page) -> list[str]:
    """Run axe-core on the page; each violation names its rule and the elements that fail it."""
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
    ]


def scroll_width(page) -> int:
    """How wide the page's content is, in CSS pixels."""
    return page.evaluate("document.documentElement.scrollWidth")


def page_fits_width(page, width: int) -> bool:
    """Whether the page's content fits ``width`` pixels with no sideways scrolling."""
    return scroll_width(page) <= width
