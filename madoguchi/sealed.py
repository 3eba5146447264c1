"""Secrets the desk must keep in its database (an IMAP password, a platform's OAuth tokens),
encrypted with a key of their own derived from SECRET_KEY: unreadable in a database dump."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from django.conf import settings


def fernet(purpose: str) -> Fernet:
    digest = hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))
