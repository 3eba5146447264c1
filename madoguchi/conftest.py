"""Shared pytest fixtures: factories for realistic Japanese data, and a real Chromium.

Tests run against the database DATABASE_URL names (SQLite by default, PostgreSQL in CI).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the
# test body are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-artifacts")


# Data the migrations seed (categories, business hours, starter rules and templates, SLA
# policies). A transactional test flushes the database at its end, wiping these for every
# later test; they are put back before each transactional test that finds them gone.
SEED_MIGRATIONS = [
    ("madoguchi.cases.migrations.0002_default_categories", "create"),
    ("madoguchi.businesshours.migrations.0002_default_calendar", "seed"),
    ("madoguchi.businesshours.migrations.0003_closed_day_ranges", "join_new_year"),
    ("madoguchi.knowledge.migrations.0003_default_templates_and_rules", "install"),
    ("madoguchi.metrics.migrations.0002_default_policies", "seed"),
]


def reseed_migration_data() -> None:
    from importlib import import_module

    from django.apps import apps
    from django.db import connection

    with connection.schema_editor(atomic=False) as schema_editor:
        for module, function in SEED_MIGRATIONS:
            getattr(import_module(module), function)(apps, schema_editor)


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """On the PostgreSQL pass (DATABASE_URL names PostgreSQL), a test that starts a desk on a
    database of its own would repeat the default pass exactly: it is skipped there."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="its own database: the same as on the default pass")
    for item in items:
        if item.get_closest_marker("own_database"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _message_reader_starter_model() -> None:
    """The message reader's starter model, trained once per machine (a few seconds) before the
    tests, in the cache every desk copies it from (triage.services.starter_path): no test, and
    no desk a test starts, trains it on a message's path."""
    from madoguchi.triage.services import ensure_starter

    ensure_starter()


def _transactional(item: Any) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", [])
    return bool((marker is not None and marker.kwargs.get("transaction"))
                or "live_server" in fixtures or "transactional_db" in fixtures)


@pytest.fixture(autouse=True)
def _seed_data_after_flush(request: Any) -> None:
    if not _transactional(request.node):
        return
    request.getfixturevalue("transactional_db")
    from madoguchi.cases.models import Category

    if not Category.objects.exists():
        reseed_migration_data()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Iterator[None]:
    """After a transactional test has flushed the database, the seeded data is put back for
    the tests after it. pytest-django runs transactional tests last, but under pytest-xdist a
    worker runs whole files in the order it is given them, and a plain database test (in a
    transaction, never reseeded) may follow a flush."""
    yield
    # After the last test the test database is already gone (its session fixture was torn down
    # in this very teardown): nothing to put back, and nothing to put it in.
    if nextitem is None or not _transactional(item):
        return
    from pytest_django.plugin import blocking_manager_key

    from madoguchi.cases.models import Category

    with item.config.stash[blocking_manager_key].unblock():
        if not Category.objects.exists():
            reseed_migration_data()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium per test module (never a downloaded browser).

    Module scope, not session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, and tests of Channels consumers need that thread loop-free."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (its own login), on the live server."""
    contexts = []

    def make(locale: str = "ja-JP") -> Any:
        context = browser.new_context(locale=locale, timezone_id="Asia/Tokyo", base_url=live_server.url)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        # Let requests the page still has in flight (htmx loads the case page's side panel
        # after the page) finish first: a live-server thread still reading while the test's
        # tables are flushed made the flush fail ("database table is locked").
        for page in context.pages:
            try:
                page.wait_for_load_state("networkidle", timeout=5000)
            except Exception:  # noqa: BLE001 - a page that never idles is closed anyway
                pass
        context.close()


def screenshot(page: Any, name: str) -> str:
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"{name}.png")
    page.screenshot(path=path, full_page=True)
    return path


def login(page: Any, username: str, password: str = "pass-窓口-2026") -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture
def shop_open(db: Any) -> Iterator[None]:
    """The shop is open around the clock, so no after-hours answer (another outbound mail,
    another indexed message) joins the cases, whatever time the tests run."""
    import datetime as dt

    from madoguchi.businesshours.calendar import forget
    from madoguchi.businesshours.models import CalendarOptions, WeeklyHours

    WeeklyHours.objects.all().delete()
    for weekday in range(7):
        WeeklyHours.objects.create(weekday=weekday, opens=dt.time(0, 0), closes=dt.time(23, 59, 59))
    CalendarOptions.objects.update_or_create(pk=1, defaults={"closed_on_public_holidays": False})
    forget()
    yield
    forget()


@pytest.fixture
def huey_immediate() -> Iterator[None]:
    """Background jobs (search indexing, after-hours answers, mail filing) run in the test
    thread as soon as the commit callbacks do, whatever the environment said when settings were
    first imported."""
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


@pytest.fixture(autouse=True)
def shop_language() -> Iterator[None]:
    """Each test starts in the shop's language: a request in English (the language switch)
    leaves English active in the thread, which would change later tests' messages."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    """Rate limits count per address (every test's client is the same address) and per chat (a
    flushed database gives the next test's chat the same id): each test starts with none used."""
    from django.core.cache import cache

    from madoguchi.chat import consumers, widget_settings

    cache.clear()
    consumers._SESSION_BUCKETS.clear()
    widget_settings.forget()  # a flushed database took the saved widget settings with it
    yield
