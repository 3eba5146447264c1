"""One rule for where a request came from, used by the login throttle, the forms and the chat."""

from __future__ import annotations

from typing import Any

from madoguchi.addresses import client_address


def test_the_forwarded_header_is_ignored_without_a_proxy(settings: Any) -> None:
    settings.MADOGUCHI_BEHIND_PROXY = False
    assert client_address("203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_behind_a_proxy_the_last_hop_it_appended_counts(settings: Any) -> None:
    settings.MADOGUCHI_BEHIND_PROXY = True
    assert client_address("10.0.0.2", "1.2.3.4, 198.51.100.7") == "198.51.100.7"  # a client's own "1.2.3.4" is ignored
    assert client_address("10.0.0.2", "") == "10.0.0.2"
