"""Django settings for Madoguchi.

Everything that differs between a laptop and a cluster is read from the environment (see
madoguchi/env.py and docs/architecture.md). The embedded default needs no other service:
SQLite in the data folder, an in-memory channel layer, and Huey on SQLite.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONCE

from madoguchi.env import env_bool, env_int, env_list, env_str, private_data_dir, secret_key
from madoguchi.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = private_data_dir(Path(env_str("MADOGUCHI_DATA_DIR", "madoguchi-data")).resolve())

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("MADOGUCHI_DEBUG", False)
# Behind a reverse proxy (docs/deploy.md): trust its X-Forwarded-For (last hop) and -Proto.
MADOGUCHI_BEHIND_PROXY = env_bool("MADOGUCHI_BEHIND_PROXY", False)
ALLOWED_HOSTS = env_list("MADOGUCHI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("MADOGUCHI_CSRF_TRUSTED_ORIGINS", [])
# Public address of the desk, used in links that leave it (emails, widget snippet).
SITE_URL = env_str("MADOGUCHI_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "huey.contrib.djhuey",
    "madoguchi.accounts",
    "madoguchi.customers",
    "madoguchi.shop",
    "madoguchi.shopify",
    "madoguchi.base_shop",
    "madoguchi.cases",
    "madoguchi.notifications",
    "madoguchi.mail",
    "madoguchi.chat",
    "madoguchi.line",
    "madoguchi.x_account",
    "madoguchi.businesshours",
    "madoguchi.knowledge",
    "madoguchi.metrics",
    "madoguchi.fans",
    "madoguchi.coupons",
    "madoguchi.jobs",
    "madoguchi.backup",
    "ninja",  # its bundled Swagger UI for /api/v1/docs (no CDN)
    "madoguchi.api",
    "madoguchi.privacy",
    "madoguchi.exports",
    "madoguchi.ops",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "madoguchi.triage",
    "madoguchi.patterns",
    "madoguchi.progress",
    "madoguchi.prevention",
    "madoguchi.shopsettings",
    "madoguchi.listening",
]

MIDDLEWARE = [
    "madoguchi.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "madoguchi.accounts.language.ChosenLanguageMiddleware",
    "madoguchi.api.errors.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "madoguchi.accounts.two_factor.TwoFactorMiddleware",
    "madoguchi.accounts.access_log.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Page requests one web process works on at once, and how long one waits for its turn before
# it is answered "busy" (madoguchi/busy.py). 0: no limit.
MADOGUCHI_WEB_CONCURRENCY = env_int("MADOGUCHI_WEB_CONCURRENCY", 8)
MADOGUCHI_WEB_QUEUE_SECONDS = float(env_str("MADOGUCHI_WEB_QUEUE_SECONDS", "20"))

# Server-Timing on every response (madoguchi/server_timing.py): for measuring, off by default.
MADOGUCHI_SERVER_TIMING = env_bool("MADOGUCHI_SERVER_TIMING", False)
if MADOGUCHI_SERVER_TIMING:
    MIDDLEWARE.insert(0, "madoguchi.server_timing.ServerTimingMiddleware")

ROOT_URLCONF = "madoguchi.urls"
ASGI_APPLICATION = "madoguchi.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "madoguchi.navigation.nav_badges",
                "madoguchi.security.csp_nonce",
            ],
            "builtins": ["madoguchi.accounts.templatetags.figures"],
        },
    },
]

# Files derived from the code alone, shared by every desk on this machine (the starter model of
# the message reader, triage.services.starter_path).
CACHE_DIR = Path(env_str("MADOGUCHI_CACHE_DIR", str(Path.home() / ".cache" / "madoguchi")))

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'madoguchi.sqlite3'}")
# Under ASGI Django wants no persistent connections (its docs): a connection per request, and
# on PostgreSQL psycopg's own pool when MADOGUCHI_DB_POOL is set (needs CONN_MAX_AGE 0).
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("MADOGUCHI_DB_POOL", False):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2, "max_size": env_int("MADOGUCHI_DB_POOL_SIZE", 10), "timeout": 10,
        # psycopg_pool retries a lost connection with a wait that doubles (1, 2, 4 … s) for 5
        # minutes: after a 30 s PostgreSQL restart the desk answered 503 for 20-30 s more while
        # the server was already back. Given up after this many seconds, the next request begins
        # a new attempt at once, so the desk is back within a few seconds (docs/benchmarks.md,
        # bench/pool_recovery_bench.py).
        "reconnect_timeout": env_int("MADOGUCHI_DB_POOL_RECONNECT_SECONDS", 10),
    }
    # With a pool Django hands this to psycopg_pool as `check=ConnectionPool.check_connection`:
    # a connection the server cut (a restart) is found and replaced when taken, not given to a
    # request that then fails with it. MADOGUCHI_DB_HEALTH_CHECKS=false turns it off.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("MADOGUCHI_DB_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("MADOGUCHI_DB_SERVER_BINDING", True):
    # Parameters bound by the server, not quoted into the SQL by Python, and a statement run 5
    # times on one connection is prepared (Django turns that off by default for poolers such as
    # PgBouncer in transaction mode; we pool in-process): PostgreSQL stops planning the desk's
    # repeated queries, 0.1-1.7 ms each (docs/benchmarks.md). A deploy migrates before it
    # restarts the processes (a prepared plan does not survive a column change).
    # MADOGUCHI_DB_SERVER_BINDING=false goes back to client-side binding, no prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=env_int("MADOGUCHI_DB_PREPARE_THRESHOLD", 5),
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker write while the web process reads; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:inbox"
LOGOUT_REDIRECT_URL = "login"
# A mailed link to set a password (an invitation or a reset) works once, for this many hours.
PASSWORD_RESET_TIMEOUT = env_int("MADOGUCHI_PASSWORD_LINK_HOURS", 72) * 3600

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": env_int("MADOGUCHI_PASSWORD_MIN_LENGTH", 12)}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = env_str("MADOGUCHI_LANGUAGE", "ja")
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("MADOGUCHI_TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "static/"
# Where `madoguchi collectstatic` puts the static files for a reverse proxy to serve (docs/deploy.md):
# outside the private data folder, which the proxy's user cannot read.
STATIC_ROOT = Path(env_str("MADOGUCHI_STATIC_ROOT", str(DATA_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MADOGUCHI_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)

# --- Backups (madoguchi/backup) ----------------------------------------------------------------
MADOGUCHI_BACKUP_HOUR = env_int("MADOGUCHI_BACKUP_HOUR", 3)  # daily, shop time; -1: no scheduled backup
MADOGUCHI_BACKUP_KEEP = env_int("MADOGUCHI_BACKUP_KEEP", 7)

# --- Shop platforms: live sync (madoguchi/shopify, madoguchi/base_shop) -------------------------
# Shopify: the shop's own Admin API access token (a custom app); the shop's URL is the API's base.
MADOGUCHI_SHOPIFY_SHOP_URL = env_str("MADOGUCHI_SHOPIFY_SHOP_URL", "").rstrip("/")
MADOGUCHI_SHOPIFY_ACCESS_TOKEN = env_str("MADOGUCHI_SHOPIFY_ACCESS_TOKEN", "")
MADOGUCHI_SHOPIFY_WEBHOOK_SECRET = env_str("MADOGUCHI_SHOPIFY_WEBHOOK_SECRET", "")
MADOGUCHI_SHOPIFY_API_VERSION = env_str("MADOGUCHI_SHOPIFY_API_VERSION", "2025-01")
# BASE (thebase.in): an app's client id and secret; the shop authorises it once on the sync page.
MADOGUCHI_BASE_API_BASE = env_str("MADOGUCHI_BASE_API_BASE", "https://api.thebase.in").rstrip("/")
MADOGUCHI_BASE_CLIENT_ID = env_str("MADOGUCHI_BASE_CLIENT_ID", "")
MADOGUCHI_BASE_CLIENT_SECRET = env_str("MADOGUCHI_BASE_CLIENT_SECRET", "")
# BASE lists orders by order date: each sync looks this far back for orders changed since.
MADOGUCHI_BASE_LOOKBACK_DAYS = env_int("MADOGUCHI_BASE_LOOKBACK_DAYS", 60)
MADOGUCHI_SHOP_SYNC_MINUTES = env_int("MADOGUCHI_SHOP_SYNC_MINUTES", 15)  # the scheduled sync, every N minutes
MADOGUCHI_SHOP_SYNC_ATTEMPTS = env_int("MADOGUCHI_SHOP_SYNC_ATTEMPTS", 5)  # tries of one request while a platform is down
MADOGUCHI_SHOP_SYNC_BACKOFF_SECONDS = float(env_str("MADOGUCHI_SHOP_SYNC_BACKOFF_SECONDS", "2"))  # first wait, then doubled
MADOGUCHI_SHOP_SYNC_MAX_WAIT_SECONDS = float(env_str("MADOGUCHI_SHOP_SYNC_MAX_WAIT_SECONDS", "60"))  # cap, Retry-After too

# --- Login throttling (accounts/throttle.py) -------------------------------------------------------
MADOGUCHI_LOGIN_DELAY_AFTER = env_int("MADOGUCHI_LOGIN_DELAY_AFTER", 3)  # failures of an account, then 2, 4, 8 … s
MADOGUCHI_LOGIN_ADDRESS_DELAY_AFTER = env_int("MADOGUCHI_LOGIN_ADDRESS_DELAY_AFTER", 20)  # failures from one address
MADOGUCHI_LOGIN_LOCK_AFTER = env_int("MADOGUCHI_LOGIN_LOCK_AFTER", 10)  # failures of an account, then locked
MADOGUCHI_LOGIN_LOCK_MINUTES = env_int("MADOGUCHI_LOGIN_LOCK_MINUTES", 60)

# --- Channels (WebSockets) ---------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    # channels-redis with a pool that waits for a free connection and reads that outlast its
    # blocking pop (chat/layers.py RedisLayer): connections per web process, and how long a burst
    # may wait for one.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "madoguchi.chat.layers.RedisLayer",
            "CONFIG": {"hosts": [{
                "address": REDIS_URL,
                "max_connections": env_int("MADOGUCHI_REDIS_LAYER_CONNECTIONS", 100),
                "timeout": env_int("MADOGUCHI_REDIS_LAYER_WAIT_SECONDS", 20),
                "socket_timeout": 15, "socket_connect_timeout": 5,
            }]},
        }
    }
elif env_str("MADOGUCHI_EMBEDDED_EVENTS_SOCKET", ""):
    # The embedded worker process of `serve` (madoguchi/worker_process.py): its chat events go
    # to the web process through a Unix socket (chat/bridge.py). Set by `serve`, not by users.
    CHANNEL_LAYERS = {"default": {"BACKEND": "madoguchi.chat.bridge.ForwardingLayer",
                                  "CONFIG": {"path": env_str("MADOGUCHI_EMBEDDED_EVENTS_SOCKET", "")}}}
else:
    # Channels' in-memory layer without its cost per event of O(all sockets) (chat/layers.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "madoguchi.chat.layers.InMemoryLayer"}}

# --- Cache (rate limits of the public forms; shared between processes when Redis is there) ---
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Chat and public forms (madoguchi/chat, see docs/architecture.md) --------------------------
MADOGUCHI_CHAT_ALLOWED_ORIGINS = env_list("MADOGUCHI_CHAT_ALLOWED_ORIGINS", [])
MADOGUCHI_CHAT_BUSINESS_HOURS = env_bool("MADOGUCHI_CHAT_BUSINESS_HOURS", True)
MADOGUCHI_CHAT_MAX_MESSAGE_CHARS = env_int("MADOGUCHI_CHAT_MAX_MESSAGE_CHARS", 5000)
MADOGUCHI_CHAT_MAX_UPLOAD_BYTES = env_int("MADOGUCHI_CHAT_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
MADOGUCHI_CHAT_BURST = env_int("MADOGUCHI_CHAT_BURST", 10)
MADOGUCHI_CHAT_PER_MINUTE = env_int("MADOGUCHI_CHAT_PER_MINUTE", 30)
# A visitor who closed the page: shown as gone after the grace (a page change reconnects
# within it); a waiting chat whose visitor is gone this long is ended (the case stays).
MADOGUCHI_CHAT_VISITOR_GRACE_SECONDS = env_int("MADOGUCHI_CHAT_VISITOR_GRACE_SECONDS", 60)
MADOGUCHI_CHAT_WAITING_EXPIRE_MINUTES = env_int("MADOGUCHI_CHAT_WAITING_EXPIRE_MINUTES", 10)
# Each web process writes a heartbeat this often; one silent for four beats died (kill -9, a
# power cut) and the chat visitors counted through it are taken off (chat/presence.py).
MADOGUCHI_WEB_HEARTBEAT_SECONDS = env_int("MADOGUCHI_WEB_HEARTBEAT_SECONDS", 20)
MADOGUCHI_FORM_PER_IP_PER_HOUR = env_int("MADOGUCHI_FORM_PER_IP_PER_HOUR", 10)
# New chats one address may start in an hour (one address opened 500 chats in 1.3 s: issue 21).
MADOGUCHI_CHAT_NEW_PER_ADDRESS_PER_HOUR = env_int("MADOGUCHI_CHAT_NEW_PER_ADDRESS_PER_HOUR", 20)
MADOGUCHI_FORM_MIN_SECONDS = env_int("MADOGUCHI_FORM_MIN_SECONDS", 3)

# --- Background jobs (Huey) ----------------------------------------------------------------------
# Embedded: Huey keeps its queue in a SQLite file and `madoguchi serve` runs the consumer.
# At scale: REDIS_URL set, and `madoguchi worker` processes run beside the web processes.
TASKS_IMMEDIATE = env_bool("MADOGUCHI_TASKS_IMMEDIATE", False)
# Work a write deferred (jobs.work) is redone by the minute sweep once it is this old and undone.
JOBS_WORK_GRACE_SECONDS = env_int("MADOGUCHI_WORK_GRACE_SECONDS", 60)
# A worker holds the work it took this long; then (it died) another may take it.
JOBS_WORK_CLAIM_SECONDS = env_int("MADOGUCHI_WORK_CLAIM_SECONDS", 120)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "madoguchi",
        "url": REDIS_URL,
        "immediate": TASKS_IMMEDIATE,
        "consumer": {"workers": env_int("MADOGUCHI_WORKER_THREADS", 4), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "madoguchi",
        "filename": str(DATA_DIR / "tasks.sqlite3"),
        "immediate": TASKS_IMMEDIATE,
        "consumer": {"workers": env_int("MADOGUCHI_WORKER_THREADS", 2), "worker_type": "thread"},
    }

# --- Outbound webhooks (madoguchi.api.webhooks) ------------------------------------------------
# Attempts of one delivery before it is given up; the wait after the n-th failure is
# WEBHOOK_RETRY_SECONDS × 2^(n−1) (30 s, 1, 2, 4, 8, 16, 32 min: the 8th and last try about an
# hour after the first); each POST waits at most WEBHOOK_TIMEOUT_SECONDS for the answer.
WEBHOOK_MAX_ATTEMPTS = env_int("MADOGUCHI_WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_RETRY_SECONDS = env_int("MADOGUCHI_WEBHOOK_RETRY_SECONDS", 30)
WEBHOOK_TIMEOUT_SECONDS = env_int("MADOGUCHI_WEBHOOK_TIMEOUT_SECONDS", 10)

# --- Email -----------------------------------------------------------------------------------------
EMAIL_HOST = env_str("MADOGUCHI_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = env_int("MADOGUCHI_SMTP_OUT_PORT", 25)
EMAIL_HOST_USER = env_str("MADOGUCHI_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("MADOGUCHI_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("MADOGUCHI_SMTP_TLS", False)
DEFAULT_FROM_EMAIL = env_str("MADOGUCHI_FROM_EMAIL", "support@example.jp")
EMAIL_TIMEOUT = env_int("MADOGUCHI_SMTP_TIMEOUT", 20)

# --- Mail channel (madoguchi.mail; see docs/architecture.md) ---------------------------------------
MAIL_SMTP_PORT = env_int("MADOGUCHI_SMTP_PORT", 2525)  # built-in receiver; 0 turns it off
MAIL_SMTP_HOST = env_str("MADOGUCHI_SMTP_LISTEN", "127.0.0.1")
MAIL_MAX_MESSAGE_BYTES = env_int("MADOGUCHI_MAIL_MAX_BYTES", 25 * 1024 * 1024)
MAIL_MAX_ATTACHMENT_BYTES = env_int("MADOGUCHI_MAIL_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)
MAIL_SEND_ACKNOWLEDGEMENT = env_bool("MADOGUCHI_MAIL_ACK", True)
MAIL_ACK_PER_SENDER_PER_HOUR = env_int("MADOGUCHI_MAIL_ACK_PER_HOUR", 3)
# Automatic mails to one domain and in all, an hour: a net against backscatter, high enough for a
# sale day's customers of one big provider (gmail.com, docomo.ne.jp); they repeat nothing a
# stranger wrote, so what a forger gets out of them is the number of mails.
MAIL_ACK_PER_DOMAIN_PER_HOUR = env_int("MADOGUCHI_MAIL_ACK_PER_DOMAIN_PER_HOUR", 300)
MAIL_ACK_TOTAL_PER_HOUR = env_int("MADOGUCHI_MAIL_ACK_TOTAL_PER_HOUR", 1000)
MAIL_ACK_REPLY_WITHIN_BUSINESS_HOURS = env_int("MADOGUCHI_MAIL_REPLY_WITHIN_HOURS", 8)
# The customer's status page (madoguchi.progress): how long a link works, whether the receipt
# mail carries one, the shop's name when no mailbox gives it, and when a promise to the customer
# counts as about to be late (within this many business hours of its due time).
PROGRESS_LINK_DAYS = env_int("MADOGUCHI_STATUS_LINK_DAYS", 90)
PROGRESS_LINK_IN_RECEIPT = env_bool("MADOGUCHI_STATUS_LINK_IN_RECEIPT", True)
PROGRESS_SHOP_NAME = env_str("MADOGUCHI_SHOP_NAME", "")
PROGRESS_LATE_NOTICE_BUSINESS_HOURS = env_int("MADOGUCHI_LATE_NOTICE_HOURS", 4)
PROGRESS_PAGE_PER_ADDRESS_PER_HOUR = env_int("MADOGUCHI_STATUS_PAGE_PER_HOUR", 120)
MAIL_COMMITMENT_REMINDER_MINUTES = env_int("MADOGUCHI_MAIL_REMINDER_MINUTES", 60)
# The weekly prevention digest (madoguchi.prevention.digest): the weekday (0 = Monday) and the hour
# (JST) from which it is sent to every staff member who has not turned it off.
PREVENTION_DIGEST_WEEKDAY = env_int("MADOGUCHI_PREVENTION_DIGEST_WEEKDAY", 0)
PREVENTION_DIGEST_HOUR = env_int("MADOGUCHI_PREVENTION_DIGEST_HOUR", 9)
# Notifications by mail (madoguchi.notifications.mailing): more events of one kind for one person
# within this many minutes of a mail of that kind wait and go together as one digest mail.
NOTIFY_MAIL_DIGEST_MINUTES = env_int("MADOGUCHI_NOTIFY_MAIL_DIGEST_MINUTES", 5)
MAIL_DEFAULT_CATEGORY = env_str("MADOGUCHI_MAIL_CATEGORY", "other")
# Social listening (madoguchi.listening): a subject with at least this many complaint posts in
# the last hour, and this many times its hourly mean over the previous days, is a spike.
LISTENING_SPIKE_MIN_POSTS = env_int("MADOGUCHI_LISTENING_SPIKE_MIN_POSTS", 5)
LISTENING_SPIKE_FACTOR = env_int("MADOGUCHI_LISTENING_SPIKE_FACTOR", 3)
LISTENING_BASELINE_DAYS = env_int("MADOGUCHI_LISTENING_BASELINE_DAYS", 7)
# A stored mail still unfiled this long after it arrived is filed by the minute sweep.
MAIL_SWEEP_AFTER_SECONDS = env_int("MADOGUCHI_MAIL_SWEEP_AFTER_SECONDS", 300)
# A worker's try at filing a mail holds it this long; a try still unfinished then was cut short.
MAIL_ATTEMPT_LEASE_SECONDS = env_int("MADOGUCHI_MAIL_ATTEMPT_LEASE_SECONDS", 120)
# A mail marked `sending` by a worker that died is sent again after this long (longer than
# any send can take: a shorter lease could send a slow mail twice).
MAIL_SEND_LEASE_SECONDS = env_int("MADOGUCHI_MAIL_SEND_LEASE_SECONDS", 120)
# Tries at filing one mail (each counted before it starts); a mail whose tries never finished
# (the process stopped or hung on it) is then set aside as failed, to be retried by hand.
MAIL_MAX_ATTEMPTS = env_int("MADOGUCHI_MAIL_MAX_ATTEMPTS", 3)

# --- LINE official account (madoguchi/line; issue 19) ------------------------------------------------
# The first account, from the environment (the secrets are never in the database or the repo).
LINE_CHANNEL_SECRET = env_str("MADOGUCHI_LINE_CHANNEL_SECRET", "")
LINE_CHANNEL_ACCESS_TOKEN = env_str("MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN", "")
# Where the Messaging API and its content (data) API are; another server for tests.
LINE_API_BASE = env_str("MADOGUCHI_LINE_API_BASE", "https://api.line.me").rstrip("/")
LINE_DATA_API_BASE = env_str("MADOGUCHI_LINE_DATA_API_BASE", "https://api-data.line.me").rstrip("/")
# A reply token younger than this is used for the answer (free of the monthly quota); older: push.
LINE_REPLY_TOKEN_SECONDS = env_int("MADOGUCHI_LINE_REPLY_TOKEN_SECONDS", 50)
LINE_MAX_WEBHOOK_BYTES = env_int("MADOGUCHI_LINE_MAX_WEBHOOK_BYTES", 1024 * 1024)
LINE_MAX_CONTENT_BYTES = env_int("MADOGUCHI_LINE_MAX_CONTENT_BYTES", 20 * 1024 * 1024)
LINE_HTTP_TIMEOUT = env_int("MADOGUCHI_LINE_HTTP_TIMEOUT", 20)

# --- The shop's own X account (madoguchi/x_account; issue 19) ----------------------------------------
# Posting replies and reading DMs need user context: OAuth 1.0a (the app's consumer key and secret
# with the account's access token and secret, from the developer portal) or an OAuth 2.0 user
# access token in X_BEARER_TOKEN (scopes tweet.read tweet.write users.read dm.read dm.write). An
# app-only bearer token reads mentions only (then X_USER_ID is needed).
X_BEARER_TOKEN = env_str("MADOGUCHI_X_BEARER_TOKEN", "")
X_CONSUMER_KEY = env_str("MADOGUCHI_X_CONSUMER_KEY", "")
X_CONSUMER_SECRET = env_str("MADOGUCHI_X_CONSUMER_SECRET", "")
X_ACCESS_TOKEN = env_str("MADOGUCHI_X_ACCESS_TOKEN", "")
X_ACCESS_TOKEN_SECRET = env_str("MADOGUCHI_X_ACCESS_TOKEN_SECRET", "")
# The shop account's numeric id (else taken from the OAuth 1.0a token, or asked once of /2/users/me).
X_USER_ID = env_str("MADOGUCHI_X_USER_ID", "")
# Where the X API v2 is; another server for tests.
X_API_BASE = env_str("MADOGUCHI_X_API_BASE", "https://api.x.com").rstrip("/")
# Mentions and DMs are fetched every this many minutes (each a request against the tier's limits).
X_FETCH_MINUTES = env_int("MADOGUCHI_X_FETCH_MINUTES", 5)
X_FETCH_DMS = env_bool("MADOGUCHI_X_FETCH_DMS", True)
# The first fetch of a new desk reads back this many hours, not the account's whole history.
X_FIRST_FETCH_HOURS = env_int("MADOGUCHI_X_FIRST_FETCH_HOURS", 24)
# Pages (of up to 100) one fetch reads before leaving the rest to the next run.
X_MAX_PAGES = env_int("MADOGUCHI_X_MAX_PAGES", 10)
X_HTTP_TIMEOUT = env_int("MADOGUCHI_X_HTTP_TIMEOUT", 20)
# Social listening from X (recent search, GET /2/tweets/search/recent): the query, in X's search
# syntax (e.g. the shop's name); empty = off. Fed to listening's queue every 15 minutes.
X_LISTENING_QUERY = env_str("MADOGUCHI_X_LISTENING_QUERY", "")

# --- Security ----------------------------------------------------------------------------------------
# MADOGUCHI_HTTPS=true when the desk is reached over TLS (docs/deploy.md): secure cookies, plain
# HTTP redirected, HSTS for a year. Behind a proxy (MADOGUCHI_BEHIND_PROXY) the proxy's
# X-Forwarded-Proto says whether the browser's connection was TLS.
HTTPS = env_bool("MADOGUCHI_HTTPS", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS or env_bool("MADOGUCHI_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("MADOGUCHI_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("MADOGUCHI_HSTS_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("MADOGUCHI_HSTS_PRELOAD", False)
# Preloading is the domain owner's decision, hard to undo, and needs a submission to the browsers'
# list: off by default, and `check --deploy` is not to nag about it (W021).
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if MADOGUCHI_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Argon2 for new and changed passwords; older hashes still verify and are rehashed at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Two-factor sign-in (accounts/two_factor.py): the name authenticator apps show.
OTP_TOTP_ISSUER = env_str("MADOGUCHI_OTP_ISSUER", "Madoguchi")
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp; docs/architecture.md): scripts and style
# sheets from the desk itself or carrying the response's nonce, no eval, no inline handler, no
# plugin, no <base>, forms posted to the desk only, and no page framed by another site (the public
# forms alone may be framed by MADOGUCHI_CHAT_ALLOWED_ORIGINS: chat/public_views.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True

# Log lines (madoguchi/logs.py): emails and phone numbers masked; MADOGUCHI_LOG_FORMAT=json writes
# one JSON object a line with the request id (X-Request-ID).
LOG_FORMAT = env_str("MADOGUCHI_LOG_FORMAT", "text")
LOGGING = logging_config(env_str("MADOGUCHI_LOG_LEVEL", "INFO"), LOG_FORMAT == "json")
