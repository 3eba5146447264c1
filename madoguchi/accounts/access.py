"""Who is asking: the staff member behind a view that requires login."""

from __future__ import annotations

from django.http import HttpRequest

from madoguchi.accounts.models import User


def staff_user(request: HttpRequest) -> User:
    """The signed-in user of a `login_required` view (never anonymous there)."""
    user = request.user
    assert isinstance(user, User)
    return user
