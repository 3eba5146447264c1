"""docs/deploy.md, the Dockerfile and compose files name only settings Madoguchi reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NAME = re.compile(r"\b(MADOGUCHI_[A-Z_]+[A-Z]|DATABASE_URL|REDIS_URL|SECRET_KEY)\b")


def test_every_variable_named_in_the_deploy_files_exists():
    code = "".join(p.read_text() for p in (ROOT / "madoguchi").rglob("*.py") if "tests" not in p.parts)
    for doc in ("docs/deploy.md", "Dockerfile", "compose.yaml", "compose.env.example"):
        named = set(NAME.findall((ROOT / doc).read_text()))
        assert named, doc
        missing = sorted(n for n in named if f'"{n}"' not in code)
        assert missing == [], f"{doc} names settings nobody reads: {missing}"
