"""Background jobs run in the test thread (Huey immediate mode), whatever the environment
said when settings were first imported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _jobs_run_inline(huey_immediate: None) -> None:
    """Background jobs run in the test thread (madoguchi/conftest.py huey_immediate)."""


# --- Real servers -----------------------------------------------------------------------------

import imaplib  # noqa: E402
import os  # noqa: E402
import pwd  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, timeout: float = 15.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


@dataclass
class Sink:
    """An aiosmtpd server that keeps what it receives (the shop's outgoing SMTP relay)."""

    port: int
    received: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[list[str], bytes]] = field(default_factory=list)  # (RCPT TO addresses, the mail)
    controller: Any = None
    answer: str = "250 OK"  # what it replies to DATA; a 5xx refuses the mail (spam filter, policy)

    def start(self) -> Sink:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                if sink.answer.startswith("2"):
                    sink.received.append(envelope.original_content or envelope.content)
                    sink.envelopes.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
                return sink.answer

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, decode_data=False)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[Sink]:
    """Outbound mail goes over real SMTP to this sink (not Django's locmem outbox)."""
    sink = Sink(port=free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 5
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    sink.start()
    yield sink
    sink.stop()


@dataclass
class Dovecot:
    port: int
    user: str
    password: str

    def append(self, raw: bytes) -> None:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(self.user, self.password)
        client.append("INBOX", None, None, raw)
        client.logout()


DOVECOT_CONF = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u/Maildir
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 0
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
"""


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Debian dovecot with its own config: plain auth on loopback, Maildir in a temp dir."""
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot-imapd is not installed (bin/test installs it)")
    root = tempfile.mkdtemp(prefix="madoguchi-dovecot-")
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail"):
        os.makedirs(os.path.join(root, sub))
    if os.getuid() == 0:  # as root, run mail processes as Debian's dovecot users
        internal, group, login, owner = "dovecot", "dovecot", "dovenull", pwd.getpwnam("dovecot")
    else:
        me = pwd.getpwuid(os.getuid())
        internal, group, login, owner = me.pw_name, me.pw_name, me.pw_name, me
    os.chown(os.path.join(root, "mail"), owner.pw_uid, owner.pw_gid)
    port = free_port()
    server = Dovecot(port=port, user="shop", password="imap-test-pw-2026")
    with open(os.path.join(root, "passwd"), "w", encoding="utf-8") as handle:
        handle.write(f"{server.user}:{{PLAIN}}{server.password}\n")
    conf = os.path.join(root, "dovecot.conf")
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(DOVECOT_CONF.format(root=root, port=port, internal=internal, group=group, login=login,
                                         uid=owner.pw_uid, gid=owner.pw_gid))
    subprocess.run([DOVECOT, "-c", conf], check=True, timeout=20)
    try:
        wait_for(lambda: _listening(port), timeout=15)
        yield server
    finally:
        subprocess.run([DOVECOT, "-c", conf, "stop"], timeout=20, check=False)
        time.sleep(0.2)
        shutil.rmtree(root, ignore_errors=True)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
