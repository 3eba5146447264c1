"""django-helpdesk 2.6.1 beside Madoguchi for bench/http_bench.py (issue 16).

Made at run time, nothing of it in the repository: a venv of its own (pip installs
django-helpdesk==2.6.1, gunicorn and psycopg from PyPI; default under ~/.cache), a minimal
Django project (settings and urls written below), its database (SQLite file beside the
desk's, or PostgreSQL database <desk's>_helpdesk), and tickets bulk-created (bulk_create in
batches, no signals) from the generated desk's own rows: one ticket per case with the same id,
subject, complaint, status, priority, assignee and dates; one follow-up per message with the
same text, date, author and visibility (notes private). Served by gunicorn (gthread, 6 threads
per process: sync views in threads, like `madoguchi serve`).

Pages compared (ours → theirs):
- inbox "all" first page → ticket list of every status, newest first, with its DataTables
  request of 50 rows (our page size) — the list's rows come only from that request;
- inbox "all" deep page (keyset cursor at row N) → the same list with DataTables start=N;
- case page (+ its fragments) → ticket page (+ nothing: it loads no data after itself);
- search with / without hits → ticket list searched for the same words (+ its DataTables request);
- dashboard → helpdesk dashboard. Customer pages have no counterpart.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from http_bench import Servers, free_port, wait_up

VERSION = "2.6.1"
USER = "bench-agent1-1"
LOGIN = "/login/"
PAGE_ROWS = 50

def venv_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("BENCH_HELPDESK_VENV", cache / "madoguchi-bench" / f"helpdesk-{VERSION}"))


def ensure_venv() -> Path:
    venv = venv_dir()
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"django-helpdesk=={VERSION}", "gunicorn",
                        "psycopg[binary]"], check=True)
        marker.write_text(VERSION)
    return python


def write_project(folder: Path, database: dict[str, str]) -> None:
    """A minimal project: the apps django-helpdesk's templates and views need, its urls at /."""
    package = folder / "hdbench"
    package.mkdir(parents=True, exist_ok=True)
    (folder / "manage.py").write_text(textwrap.dedent("""\
        import os, sys
        os.environ["DJANGO_SETTINGS_MODULE"] = "hdbench.settings"
        from django.core.management import execute_from_command_line
        execute_from_command_line(sys.argv)
    """))
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(textwrap.dedent(f"""\
        SECRET_KEY = "bench-only-not-secret"
        DEBUG = False
        ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
        INSTALLED_APPS = [
            "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
            "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
            "django.contrib.sites", "django.contrib.humanize", "rest_framework", "helpdesk",
        ]
        MIDDLEWARE = [
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ]
        ROOT_URLCONF = "hdbench.urls"
        TEMPLATES = [{{
            "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
            "OPTIONS": {{"context_processors": [
                "django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages"]}},
        }}]
        DATABASES = {{"default": {database!r}}}
        DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
        SITE_ID = 1
        USE_TZ = True
        TIME_ZONE = "Asia/Tokyo"
        LANGUAGE_CODE = "ja"
        STATIC_URL = "/static/"
        LOGIN_URL = "/login/"
        LOGIN_REDIRECT_URL = "/dashboard/"
        HELPDESK_TEAMS_MODE_ENABLED = False
        EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    """))
    (package / "urls.py").write_text(textwrap.dedent("""\
        from django.urls import include, path
        urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
    """))
    (package / "wsgi.py").write_text(textwrap.dedent("""\
        import os
        os.environ["DJANGO_SETTINGS_MODULE"] = "hdbench.settings"
        from django.core.wsgi import get_wsgi_application
        application = get_wsgi_application()
    """))
    (folder / "load.py").write_text(LOAD)


# Runs in the helpdesk venv: reads the desk's rows with plain SQL, bulk-creates tickets.
LOAD = '''
import os, sys, django
django.setup()
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from helpdesk.models import FollowUp, Queue, Ticket

source, password = sys.argv[1], sys.argv[2]
if source.startswith("postgres"):
    import psycopg
    ours = psycopg.connect(source)
    ours.execute("SET TIME ZONE 'UTC'")
    def read(sql):
        with ours.cursor(name="hd") as cur:
            cur.itersize = 5000
            cur.execute(sql)
            yield from cur
else:
    import sqlite3
    ours = sqlite3.connect(source)
    def read(sql):
        yield from ours.execute(sql)

from datetime import datetime, timezone
def when(value):
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)).replace(tzinfo=timezone.utc)

User = get_user_model()
hashed = make_password(password)
users = {}
for pk, username, display in read("SELECT id, username, display_name FROM accounts_user ORDER BY id"):
    users[pk] = User(username=username, first_name=display[:150], is_staff=True, is_superuser=True, password=hashed)
User.objects.bulk_create(users.values())
by_name = {u.username: u.pk for u in User.objects.all()}
from helpdesk.models import UserSettings  # made by a post_save signal, which bulk_create does not send
UserSettings.objects.bulk_create([UserSettings(user_id=pk, tickets_per_page=50) for pk in by_name.values()])
user_id = {pk: by_name[u.username] for pk, u in users.items()}
queues = {}
for pk, name in read("SELECT id, name FROM cases_category ORDER BY id"):
    queues[pk] = Queue(title=name[:100], slug=f"q{pk}", email_address="shop@example.jp")
Queue.objects.bulk_create(queues.values())
queue_id = {pk: Queue.objects.get(slug=f"q{pk}").pk for pk in queues}
fallback = next(iter(queue_id.values()))
STATUS = {"new": 1, "open": 1, "waiting_customer": 1, "waiting_dept": 1, "resolved": 3, "closed": 4}
PRIORITY = {1: 4, 2: 3, 3: 2, 4: 1}  # ours low..urgent -> theirs low(4)..critical(1)
batch = []
tickets = 0
for row in read("SELECT id, subject, category_id, received_at, updated_at, customer_id, assignee_id, status, "
                "complaint, solution, priority FROM cases_case ORDER BY id"):
    pk, subject, category, received, updated, customer, assignee, status, complaint, solution, priority = row
    batch.append(Ticket(id=pk, title=subject[:200], queue_id=queue_id.get(category, fallback), created=when(received),
                        modified=when(updated), submitter_email=f"customer{customer}@example.jp",
                        assigned_to_id=user_id.get(assignee), status=STATUS[status],
                        on_hold=status.startswith("waiting"), description=complaint, resolution=solution or None,
                        priority=PRIORITY.get(priority, 3)))
    if len(batch) >= 5000:
        Ticket.objects.bulk_create(batch)
        tickets += len(batch)
        batch = []
Ticket.objects.bulk_create(batch)
tickets += len(batch)
batch = []
followups = 0
TITLE = {"inbound": "E-Mail Received", "outbound": "Comment", "note": "Comment"}
for pk, case_id, kind, author, occurred, body in read(
        "SELECT id, case_id, kind, author_id, occurred_at, body FROM cases_interaction ORDER BY id"):
    batch.append(FollowUp(id=pk, ticket_id=case_id, date=when(occurred), title=TITLE.get(kind, "Comment"), comment=body,
                          public=kind != "note", user_id=user_id.get(author)))
    if len(batch) >= 5000:
        FollowUp.objects.bulk_create(batch)
        followups += len(batch)
        batch = []
FollowUp.objects.bulk_create(batch)
followups += len(batch)
if connection.vendor == "postgresql":
    with connection.cursor() as cur:
        for table in ("helpdesk_ticket", "helpdesk_followup"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("VACUUM ANALYZE")
else:
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
print(f"helpdesk: {tickets} tickets, {followups} follow-ups")
'''


def database_for(db: str, data_dir: Path, desk_url: str) -> tuple[dict[str, str], str]:
    """(Django DATABASES entry, a name to show) for the peer's own database."""
    if db == "sqlite":
        path = str(data_dir / "helpdesk" / "helpdesk.sqlite3")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}, path
    parts = urllib.parse.urlsplit(desk_url)
    name = parts.path.strip("/") + "_helpdesk"
    return {"ENGINE": "django.db.backends.postgresql", "NAME": name, "HOST": parts.hostname or "127.0.0.1",
            "PORT": str(parts.port or 5432), "USER": parts.username or "postgres"}, name


def prepare(db: str, size: int, data_dir: Path, desk_url: str, password: str) -> tuple[Path, Path]:
    """The venv, the project and its data (made again when the desk's size changed)."""
    python = ensure_venv()
    folder = data_dir / "helpdesk"
    database, name = database_for(db, data_dir, desk_url)
    stamp = folder / f".loaded-{db}-{size}"
    if stamp.exists():
        return python, folder
    folder.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        Path(database["NAME"]).unlink(missing_ok=True)
    else:
        import psycopg

        admin = urllib.parse.urlunsplit(urllib.parse.urlsplit(desk_url)._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    write_project(folder, database)
    env = peer_env(folder)
    subprocess.run([str(python), "manage.py", "migrate", "-v", "0"], cwd=folder, env=env, check=True)
    source = desk_url if db == "postgres" else str(data_dir / "madoguchi.sqlite3")
    subprocess.run([str(python), "load.py", source, password], cwd=folder, env=env, check=True)
    for old in folder.glob(".loaded-*"):
        old.unlink()
    stamp.write_text("")
    return python, folder


def peer_env(folder: Path) -> dict[str, str]:
    """The environment without Madoguchi's settings (its DATABASE_URL, settings module, …)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MADOGUCHI_", "DJANGO_")) and k not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH")}
    return {**env, "DJANGO_SETTINGS_MODULE": "hdbench.settings", "PYTHONPATH": str(folder)}


def drop(db: str, data_dir: Path, desk_url: str) -> None:
    if db != "postgres":
        return
    import psycopg

    _database, name = database_for(db, data_dir, desk_url)
    admin = urllib.parse.urlunsplit(urllib.parse.urlsplit(desk_url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def comparable_pages(pages: dict[str, tuple[str, str]], depths: dict[str, int]) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Their pages ({name: (path, user)}) and {our page: their page}."""
    every = "status=1&status=2&status=3&status=4&sort=created&sortreverse=on"
    theirs: dict[str, tuple[str, str]] = {}
    mapping: dict[str, str] = {}
    theirs["ticket list first"] = (f"/tickets/?{every}&_start=0", USER)
    mapping["inbox all first"] = "ticket list first"
    deep = depths.get("all", 0)
    theirs["ticket list deep"] = (f"/tickets/?{every}&_start={deep}", USER)
    mapping["inbox all deep"] = "ticket list deep"
    for name, (path, _user) in pages.items():
        if name.startswith("case "):
            pk = re.search(r"#(\d+)$", name)
            assert pk
            peer = name.replace("case ", "ticket ").replace("messages", "follow-ups")
            theirs[peer] = (f"/tickets/{pk.group(1)}/", USER)
            mapping[name] = peer
        elif name.startswith("search "):
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["q"][0]
            kind = "hits" if name.startswith("search hits") else "none"
            theirs[f"ticket search {kind} {q}"] = (f"/tickets/?{every}&{urllib.parse.urlencode({'q': q})}&_start=0", USER)
            mapping[name] = f"ticket search {kind} {q}"
    theirs["dashboard"] = ("/dashboard/", USER)
    mapping["dashboard"] = "dashboard"
    return theirs, mapping


DATATABLES = re.compile(r"""["'](/datatables_ticket_list/[^"']+)["']""")


def datatables_request(path: str, body: str) -> list[str]:
    """The ticket list's rows come from one DataTables request after the page (newest first,
    PAGE_ROWS rows from `_start`, as our inbox shows 50)."""
    found = DATATABLES.search(body)
    if not found:
        return []
    start = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("_start", ["0"])[0]
    query = urllib.parse.urlencode({"draw": 1, "start": start, "length": PAGE_ROWS, "order[0][column]": 5,
                                    "order[0][dir]": "desc", "search[value]": ""})
    return [f"{found.group(1)}?{query}"]


def start(db: str, size: int, data_dir: Path, desk_url: str, pages: dict[str, tuple[str, str]], depths: dict[str, int],
          workers: int, password: str) -> tuple[Servers, dict[str, tuple[str, str]], dict[str, str],
                                                Callable[[str, str], list[str]]]:
    python, folder = prepare(db, size, data_dir, desk_url, password)
    port = free_port()
    log = open(data_dir / "helpdesk-gunicorn.log", "ab")  # noqa: SIM115 (closed in Servers.stop)
    process = subprocess.Popen(
        [str(python.with_name("gunicorn")), "hdbench.wsgi", "-k", "gthread", "--threads", "6", "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=folder, env=peer_env(folder), stdout=log,
        stderr=subprocess.STDOUT)
    servers = Servers(processes=[process], bases=[f"http://127.0.0.1:{port}"], logs=[log])
    try:
        wait_up(servers.bases[0], process, LOGIN)
    except BaseException:
        servers.stop()
        raise
    theirs, mapping = comparable_pages(pages, depths)
    return servers, theirs, mapping, datatables_request
