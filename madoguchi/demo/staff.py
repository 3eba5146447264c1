"""The demo shop's staff: one support team with its lead, three agents, and authority limits.

Passwords are generated at load time (never fixed in the repo), shown once in the summary
and kept in <data folder>/demo-accounts.txt, readable by the owner only (mode 0600).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from madoguchi.accounts.models import AuthorityLimit, Role, Team, User

TEAM_NAME = "お客様サポート課"
ACCOUNTS_FILE = "demo-accounts.txt"

# username, display name, role
STAFF = [
    ("sato", "佐藤 美穂", Role.LEAD),
    ("tanaka", "田中 健太", Role.AGENT),
    ("suzuki", "鈴木 彩", Role.AGENT),
    ("takahashi", "高橋 翔", Role.AGENT),
    ("ito", "伊藤 さくら", Role.AGENT),  # joined this month: her mail replies wait for the lead's approval
]
NEWCOMER = "ito"
LIMITS_YEN = {Role.AGENT: 3000, Role.LEAD: 30000}


def ensure_staff() -> tuple[dict[str, User], dict[str, str]]:
    """The demo staff by username, and the passwords of the accounts created just now."""
    team, _ = Team.objects.get_or_create(name=TEAM_NAME)
    users: dict[str, User] = {}
    passwords: dict[str, str] = {}
    for username, display_name, role in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(
                username=username, password=password, display_name=display_name, role=role, team=team,
                email=f"{username}@komorebido.example.jp", replies_need_approval=username == NEWCOMER,
            )
            passwords[username] = password
        users[username] = user
    if team.lead_id is None:
        team.lead = users["sato"]
        team.save(update_fields=["lead"])
    # An admin may already have set the limits; the demo never overrides them.
    for role, yen in LIMITS_YEN.items():
        AuthorityLimit.objects.get_or_create(role=role, defaults={"max_compensation_yen": yen})
    return users, passwords


def accounts_text(passwords: dict[str, str], admin: tuple[str, str] | None = None) -> str:
    """One line per account; the first admin too when it was created with the demo (bin/start's
    first start), so the newcomer finds every password in one place."""
    names = {username: (display, role) for username, display, role in STAFF}
    lines = ["窓口 Madoguchi デモ用アカウント（このファイルは持ち主だけが読めます）", ""]
    if admin is not None:
        lines.append(f"{admin[0]}\t{admin[1]}\t管理者（{Role.ADMIN.label}）")
    for username, password in passwords.items():
        display, role = names[username]
        lines.append(f"{username}\t{password}\t{display}（{Role(role).label}）")
    return "\n".join(lines) + "\n"


def write_accounts_file(data_dir: Path, passwords: dict[str, str], admin: tuple[str, str] | None = None) -> Path:
    """Write the file with mode 0600 from the start, so the passwords are never world-readable."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / ACCOUNTS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file may have been created with another mode
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(accounts_text(passwords, admin))
    return path
