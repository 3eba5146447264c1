"""Tracking numbers as links to the carrier's own tracking page: the five big Japanese
carriers built in, and any carrier an admin adds with a URL pattern (`CarrierSite`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from madoguchi.shop.models import Carrier, CarrierSite

NUMBER = "{number}"

# The carriers' public tracking pages, each taking the number in its query or path.
BUILT_IN: dict[str, str] = {
    Carrier.YAMATO: "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={number}",
    Carrier.SAGAWA: "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={number}",
    Carrier.JAPANPOST: "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={number}&searchKind=S002&locale=ja",
    Carrier.SEINO: "https://track.seino.co.jp/cgi-bin/gnpquery.pgm?GNPNO1={number}",
    Carrier.FUKUYAMA: "https://corp.fukutsu.co.jp/situation/tracking_no_hunt/{number}",
}


def clean_number(text: str) -> str:
    """A tracking number as stored: half-width, without spaces or hyphens (1234-5678-9012)."""
    return re.sub(r"[\s\-‐‑–—−ー]", "", unicodedata.normalize("NFKC", text))


@dataclass(frozen=True)
class Tracking:
    carrier_label: str
    number: str
    url: str  # "" when the carrier has no known page


def carrier_label(code: str, sites: dict[str, CarrierSite] | None = None) -> str:
    if code in Carrier.values:
        return str(Carrier(code).label)
    site = (sites or {}).get(code)
    return site.name if site else code


def tracking_url(code: str, number: str, sites: dict[str, CarrierSite] | None = None) -> str:
    """The tracking page of this parcel; "" when the number is empty or the carrier unknown."""
    number = clean_number(number)
    if not number:
        return ""
    site = (sites or {}).get(code)
    pattern = site.url_pattern if site is not None else BUILT_IN.get(code, "")
    return pattern.replace(NUMBER, quote(number, safe="")) if pattern else ""


def sites_for(codes: set[str]) -> dict[str, CarrierSite]:
    """The admin's carriers among these codes: one query, none when all are built in (an
    admin's carrier never takes a built-in code: CarrierSiteForm)."""
    codes = {code for code in codes if code and code != Carrier.OTHER and code not in BUILT_IN}
    if not codes:
        return {}
    return {site.code: site for site in CarrierSite.objects.filter(code__in=codes)}


def tracking_of(order: object, sites: dict[str, CarrierSite] | None = None) -> Tracking | None:
    number = getattr(order, "tracking_number", "")
    if not number:
        return None
    code = getattr(order, "carrier", "")
    return Tracking(carrier_label(code, sites), number, tracking_url(code, number, sites))
