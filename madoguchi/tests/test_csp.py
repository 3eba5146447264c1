"""Content-Security-Policy (issue 21, finding 6): every page carries a strict policy, and no
template writes an inline script, an on…= handler or an unnonced <style>. The browser test
(test_csp_browser.py) shows the desk, htmx fragments, the charts and the widget still work
under it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from madoguchi.testing.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(p for p in ROOT.rglob("templates/**/*.html") if ".venv" not in p.parts)


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.django_db
def test_desk_pages_have_a_strict_policy(client):
    client.force_login(UserFactory(username="kimura"))
    for response in (client.get(reverse("cases:inbox")), client.get(reverse("login"))):
        policy = directives(response)
        assert policy["script-src"].startswith("script-src 'self'")
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert policy["object-src"] == "object-src 'none'"
        assert policy["base-uri"] == "base-uri 'none'"
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert policy["form-action"] == "form-action 'self'"
        assert "'unsafe-inline'" not in policy["style-src"]


@pytest.mark.django_db
def test_a_nonce_in_a_page_is_the_nonce_of_its_header(client):
    client.force_login(UserFactory(username="kimura"))
    response = client.get(reverse("cases:inbox"))
    page = response.content.decode()
    nonces = set(re.findall(r'nonce="([^"]+)"', page))
    assert nonces, "htmx's script tag carries the nonce"
    for nonce in nonces:
        assert f"'nonce-{nonce}'" in directives(response)["script-src"]


@pytest.mark.django_db
def test_public_forms_may_be_framed_by_the_shop_only_and_keep_the_rest(client, settings):
    settings.MADOGUCHI_CHAT_ALLOWED_ORIGINS = ["https://shop.example.jp"]
    policy = directives(client.get(reverse("chat:contact_form")))
    assert policy["frame-ancestors"] == "frame-ancestors 'self' https://shop.example.jp"
    assert policy["script-src"].startswith("script-src 'self'") and policy["object-src"] == "object-src 'none'"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_or_handlers(template):
    text = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag or "nonce=" in tag, f"inline script without nonce: {tag}"
    assert not re.search(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", text), "an on…= handler (use static JS)"
    # style-src has no 'unsafe-inline': a style attribute would be refused (use a class).
    assert not re.search(r"<[a-zA-Z][^>]*\sstyle\s*=", text), "a style= attribute (use a class in the CSS)"
    for tag in re.findall(r"<style\b[^>]*>", text):
        assert "nonce=" in tag, f"<style> without nonce: {tag}"
