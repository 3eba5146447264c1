"""What staff do with a post in the listening queue: answer it on the platform (noted here with
a link to the reply), turn it into a case, dismiss it (one by one, or every noise post at once),
or correct the kind the reader gave it. Knows nothing of HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.listening.models import ListeningPost, Platform, PostState
from madoguchi.listening.posts import safe_url
from madoguchi.triage.models import MessageKind

if TYPE_CHECKING:
    from madoguchi.accounts.models import User
    from madoguchi.cases.models import Case
    from madoguchi.customers.models import Customer

PAGE_SIZE = 50


class ListeningError(ValueError):
    """Shown to the staff member as it is (Japanese)."""


def _open_post(post_id: int) -> ListeningPost:
    post = ListeningPost.objects.select_for_update().filter(pk=post_id).first()
    if post is None:
        raise ListeningError(_("投稿が見つかりません。"))
    if post.state != PostState.NEW:
        raise ListeningError(_("この投稿はすでに対応済みです（%(state)s）。") % {"state": post.get_state_display()})
    return post


def _close(post: ListeningPost, state: str, user: User, **fields: Any) -> ListeningPost:
    post.state, post.handled_by, post.handled_at = state, user, timezone.now()
    for name, value in fields.items():
        setattr(post, name, value)
    post.save(update_fields=["state", "handled_by", "handled_at", *fields])
    return post


@transaction.atomic
def do_mark_answered(post_id: int, *, user: User, note: str = "", reply_url: str = "") -> ListeningPost:
    """The team answered on the platform itself: what was said (a note) and where (a link)."""
    post = _open_post(post_id)
    reply_url = reply_url.strip()
    if reply_url and not safe_url(reply_url):
        raise ListeningError(_("返信のURLは http:// か https:// で始まる1行のアドレスにしてください。"))
    if not note.strip() and not reply_url:
        raise ListeningError(_("返信の内容のメモか、返信のURLを入力してください。"))
    return _close(post, PostState.ANSWERED, user, note=note.strip()[:5000], reply_url=reply_url)


@transaction.atomic
def do_dismiss(post_id: int, *, user: User, note: str = "") -> ListeningPost:
    return _close(_open_post(post_id), PostState.DISMISSED, user, note=note.strip()[:5000])


@transaction.atomic
def do_dismiss_noise(*, user: User, platform: str = "") -> int:
    """Every post not handled yet that the reader took for noise (adverts, unrelated chatter),
    in one statement; a person who set a post's kind to something else keeps it."""
    posts = ListeningPost.objects.filter(state=PostState.NEW, kind=MessageKind.NOISE)
    if platform:
        posts = posts.filter(platform=platform)
    return posts.update(state=PostState.DISMISSED, handled_by=user, handled_at=timezone.now(),
                        note=_("ノイズとしてまとめて対応不要にしました。"))


@transaction.atomic
def do_set_kind(post_id: int, *, user: User, kind: str) -> ListeningPost:
    if kind not in MessageKind.values:
        raise ListeningError(_("種類を選んでください。"))
    post = ListeningPost.objects.select_for_update().filter(pk=post_id).first()
    if post is None:
        raise ListeningError(_("投稿が見つかりません。"))
    post.kind, post.kind_set_by = kind, user
    post.save(update_fields=["kind", "kind_set_by"])
    return post


def author_customer(post: ListeningPost) -> Customer:
    """The customer the post's author is. On X the handle is an identity (the platform says who
    wrote the post): the customer who holds it, else a new one who does, whose name is the
    display name, unconfirmed (a stranger's words, never used to greet them). Elsewhere there
    is no identity kind: the customer of an earlier post of the same author turned into a case,
    else a new customer."""
    from madoguchi.customers.models import Customer, IdentityKind
    from madoguchi.customers.services import get_or_create_customer

    name = post.author_name or (f"@{post.author_handle}" if post.author_handle else _("SNSの投稿者"))
    if post.platform == Platform.X and post.author_handle:
        customer, _created = get_or_create_customer(name=name, kind=IdentityKind.X, value=post.author_handle)
    else:
        earlier = (ListeningPost.objects.filter(platform=post.platform, author_handle=post.author_handle, case__isnull=False)
                   .exclude(author_handle="").select_related("case__customer").order_by("-handled_at").first())
        customer = earlier.case.customer if earlier is not None and earlier.case is not None else Customer.objects.create(
            name=name[:200], note=_("%(platform)s の投稿者 %(handle)s") % {"platform": post.platform_label,
                                                                       "handle": post.author_display})
    for _hop in range(20):  # a merged customer points at the survivor
        if customer.merged_into_id is None:
            break
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


@transaction.atomic
def do_turn_into_case(post_id: int, *, user: User) -> Case:
    """A case of the post: channel X (else その他), the author's customer, the reader's category,
    the post's text as the customer's first message, at the time it was posted; the person who
    did it takes the case, and a note on it says where the post is."""
    from madoguchi.cases.models import Category, Channel, InteractionKind
    from madoguchi.cases.services import CaseError, do_add_interaction, do_create_case
    from madoguchi.chat.services import default_category

    post = _open_post(post_id)
    customer = author_customer(post)
    category = (Category.objects.filter(code=post.category, active=True).first() if post.category else None) or default_category()
    channel = Channel.X if post.platform == Platform.X else Channel.OTHER
    first_line = " ".join(post.text.split())
    subject = _("%(platform)s の投稿: %(text)s") % {"platform": post.platform_label, "text": first_line[:60]}
    try:
        case = do_create_case(actor=user, customer=customer, subject=subject[:200], channel=channel, category=category,
                              complaint=post.text, received_at=min(post.posted_at, timezone.now()), assignee=user)
    except CaseError as error:
        raise ListeningError(str(error)) from error
    where = post.url or f"{post.platform_label} {post.post_id}"
    do_add_interaction(case, actor=user, kind=InteractionKind.NOTE, channel=channel,
                       body=_("SNSの投稿（%(author)s）から案件にしました: %(where)s") % {"author": post.author_display or "—", "where": where})
    _close(post, PostState.CASE, user, case=case)
    return case


# --- The queue ------------------------------------------------------------------------------

@dataclass
class QueueFilter:
    kind: str = ""
    state: str = PostState.NEW
    platform: str = ""


def queue(filters: QueueFilter) -> QuerySet[ListeningPost]:
    posts = ListeningPost.objects.all()
    if filters.state:
        posts = posts.filter(state=filters.state)
    if filters.kind:
        posts = posts.filter(kind=filters.kind)
    if filters.platform:
        posts = posts.filter(platform=filters.platform)
    return posts


def page(filters: QueueFilter, cursor: tuple[dt.datetime, int] | None) -> tuple[list[ListeningPost], tuple[dt.datetime, int] | None]:
    """One page, newest first, by keyset (posted_at, id): a deep page costs what the first does."""
    posts = queue(filters).select_related("handled_by", "case")
    if cursor is not None:
        at, pk = cursor
        posts = posts.filter(Q(posted_at__lt=at) | Q(posted_at=at, pk__lt=pk))
    rows = list(posts.order_by("-posted_at", "-pk")[: PAGE_SIZE + 1])
    after = (rows[PAGE_SIZE - 1].posted_at, rows[PAGE_SIZE - 1].pk) if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], after


def fans(limit: int = 20) -> list[dict[str, Any]]:
    """Praise kept as a signal: the authors who praised the shop most, with their count and last
    post; the customer when their X handle is one of a customer's identities."""
    from django.db.models import Count, Max

    from madoguchi.customers.models import Identity, IdentityKind

    rows: list[dict[str, Any]] = [dict(row) for row in ListeningPost.objects.filter(kind=MessageKind.PRAISE).exclude(author_handle="")
                .values("platform", "author_handle").annotate(n=Count("pk"), last=Max("posted_at"), name=Max("author_name"))
                .order_by("-n", "-last")[:limit]]
    handles = [row["author_handle"].lower() for row in rows if row["platform"] == Platform.X]
    holders = dict(Identity.objects.filter(kind=IdentityKind.X, value__in=handles).values_list("value", "customer_id"))
    for row in rows:
        row["customer_id"] = holders.get(row["author_handle"].lower()) if row["platform"] == Platform.X else None
    return rows


def posts_of(customer_ids: list[int]) -> QuerySet[ListeningPost]:
    """The posts of these customers (privacy: export and erasure): those turned into their
    cases, and those written on X under a handle they hold."""
    from madoguchi.customers.models import Identity, IdentityKind

    handles = list(Identity.objects.filter(customer_id__in=customer_ids, kind=IdentityKind.X).values_list("value", flat=True))
    mine = Q(case__customer_id__in=customer_ids)
    for handle in handles:
        mine |= Q(platform=Platform.X, author_handle__iexact=handle)
    return ListeningPost.objects.filter(mine)
