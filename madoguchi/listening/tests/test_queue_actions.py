"""What staff do with a post: turn it into a case (the author's customer found or made by their
X identity), note an answer given on the platform, dismiss one or every noise post, correct the
kind; the queue page filters and pages by keyset with constant queries; the import page is for
leads and admins and runs in the worker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.cases.models import Channel, Interaction, InteractionKind
from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.listening import services
from madoguchi.listening.models import ListeningPost, PostImport, PostState
from madoguchi.listening.tests import samples
from madoguchi.listening.uploads import upload_path
from madoguchi.shop.models import ImportRunState
from madoguchi.testing.factories import CustomerFactory, IdentityFactory, UserFactory

pytestmark = [pytest.mark.django_db]


def _post(number: int, **fields) -> ListeningPost:
    values = {"platform": "x", "post_id": str(number), "author_handle": f"user{number}", "author_name": "お茶好き🍵",
              "text": "注文した急須がまだ届かない😡", "posted_at": timezone.now() - dt.timedelta(minutes=number),
              "url": f"https://x.com/user{number}/status/{number}", "kind": "complaint", "category": "delivery", "anger": 3.0}
    values.update(fields)
    return ListeningPost.objects.create(**values)


@pytest.fixture
def agent():
    return UserFactory(username="tanaka", display_name="田中 健太")


def test_turning_an_x_post_into_a_case_links_the_author_identity(agent) -> None:
    hanako = CustomerFactory(name="佐藤 花子")
    IdentityFactory(customer=hanako, kind=IdentityKind.X, value="hanako_tea")
    post = _post(1, author_handle="Hanako_Tea", author_name="はなこ")
    case = services.do_turn_into_case(post.pk, user=agent)
    assert (case.customer, case.channel, case.category.code, case.assignee) == (hanako, Channel.X, "delivery", agent)
    assert case.complaint == post.text and case.received_at == post.posted_at
    first = Interaction.objects.filter(case=case).order_by("pk").first()
    assert (first.kind, first.body) == (InteractionKind.INBOUND, post.text)
    assert post.url in Interaction.objects.get(case=case, kind=InteractionKind.NOTE).body
    post.refresh_from_db()
    assert (post.state, post.case, post.handled_by) == (PostState.CASE, case, agent)

    # A stranger's handle: a new customer holding it, their display name not taken as confirmed.
    other = services.do_turn_into_case(_post(2, author_handle="new_fan").pk, user=agent)
    assert Identity.objects.get(kind=IdentityKind.X, value="new_fan").customer == other.customer
    assert (other.customer.name, other.customer.name_confirmed) == ("お茶好き🍵", False)

    # Elsewhere there is no identity: the same author's earlier case gives the customer.
    insta = services.do_turn_into_case(_post(3, platform="instagram", author_handle="tea_lover").pk, user=agent)
    assert insta.channel == Channel.OTHER and not insta.customer.identities.exists()
    again = services.do_turn_into_case(_post(4, platform="instagram", author_handle="tea_lover").pk, user=agent)
    assert again.customer == insta.customer

    with pytest.raises(services.ListeningError, match="すでに対応済み"):
        services.do_turn_into_case(post.pk, user=agent)


def test_answered_needs_a_note_or_a_link_and_only_a_web_link(agent) -> None:
    post = _post(1)
    with pytest.raises(services.ListeningError, match="メモか、返信のURL"):
        services.do_mark_answered(post.pk, user=agent)
    with pytest.raises(services.ListeningError, match="http:// か https://"):
        services.do_mark_answered(post.pk, user=agent, reply_url="javascript:alert(1)")
    services.do_mark_answered(post.pk, user=agent, note="お詫びとDMのお願いを返信", reply_url="https://x.com/shop/status/9")
    post.refresh_from_db()
    assert (post.state, post.reply_url, post.handled_by) == (PostState.ANSWERED, "https://x.com/shop/status/9", agent)


def test_bulk_dismiss_takes_only_new_noise(agent) -> None:
    noise = [_post(n, kind="noise", text="【ＰＲ】プレゼント企画🎁") for n in range(1, 4)]
    answered = _post(5, kind="noise", state=PostState.ANSWERED)
    praise = _post(6, kind="praise", text="玉露が最高✨")
    assert services.do_dismiss_noise(user=agent) == 3
    assert set(ListeningPost.objects.filter(state=PostState.DISMISSED).values_list("pk", flat=True)) == {p.pk for p in noise}
    answered.refresh_from_db()
    praise.refresh_from_db()
    assert answered.state == PostState.ANSWERED and praise.state == PostState.NEW  # praise is kept as a signal


def test_the_queue_filters_by_kind_and_pages_by_keyset_in_constant_queries(client, agent, django_assert_max_num_queries) -> None:
    for n in range(1, 121):
        _post(n, kind="complaint" if n % 2 else "praise")
    client.force_login(agent)
    url = reverse("listening:queue")
    with django_assert_max_num_queries(12):
        first = client.get(url, {"kind": "complaint"})
    html = first.content.decode()
    assert html.count('data-testid="post"') == 50 and 'data-kind="praise"' not in html.split('data-testid="listening-posts"')[1]
    cursor = first.context["next_cursor"]
    with django_assert_max_num_queries(12):
        second = client.get(url, {"kind": "complaint", "cursor": cursor})
    shown = [row.pk for row in first.context["rows"]] + [row.pk for row in second.context["rows"]]
    assert len(second.context["rows"]) == 10 and len(set(shown)) == 60 and not second.context["next_cursor"]
    assert client.get(url, {"cursor": "garbage", "kind": "nonsense"}).status_code == 200

    post = first.context["rows"][0]
    client.post(reverse("listening:kind", args=[post.pk]), {"kind": "question", "next": url})
    post.refresh_from_db()
    assert (post.kind, post.kind_set_by) == ("question", agent)
    response = client.post(reverse("listening:case", args=[post.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[ListeningPost.objects.get(pk=post.pk).case_id])
    response = client.post(reverse("listening:dismiss", args=[post.pk]), {"next": "https://evil.example/"}, follow=True)
    assert "すでに対応済み" in response.content.decode() and response.redirect_chain[-1][0] == url


@pytest.mark.usefixtures("huey_immediate", "starter_model")
def test_a_lead_uploads_a_file_the_worker_imports_it_and_agents_are_refused(client, agent, django_capture_on_commit_callbacks) -> None:
    client.force_login(agent)
    assert client.get(reverse("listening:import")).status_code == 403
    lead = UserFactory(username="lead", role=Role.LEAD, display_name="佐藤 リーダー")
    client.force_login(lead)
    rows = list(samples.posts(30))
    rows[5]["id"] = ""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("listening:import"), {"file": SimpleUploadedFile("声.csv", samples.csv_file(rows))})
    run = PostImport.objects.get()
    assert response["Location"] == reverse("listening:import_run", args=[run.pk])
    assert (run.state, run.created, run.skipped, run.user) == (ImportRunState.DONE, 29, 1, lead)
    assert not upload_path(run.pk).exists()
    html = client.get(response["Location"]).content.decode()
    assert 'data-count="created">29<' in html and "投稿IDがありません。" in html and 'value="100"' in html
    bad = client.post(reverse("listening:import"), {"file": SimpleUploadedFile("顧客.csv", "顧客番号,氏名\n1,山田\n".encode())})
    assert bad.status_code == 400 and "投稿ファイルの形式を判別できません" in bad.content.decode()


def test_a_queued_upload_shows_a_progress_bar_that_polls(client) -> None:
    client.force_login(UserFactory(username="admin", role=Role.ADMIN))
    response = client.post(reverse("listening:import"), {"file": SimpleUploadedFile("p.json", samples.json_file(list(samples.posts(5))))})
    run = PostImport.objects.get()
    PostImport.objects.filter(pk=run.pk).update(state=ImportRunState.RUNNING, bytes_total=1000, bytes_done=250)
    fragment = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and '<progress max="100" value="25"' in fragment and "<html" not in fragment


def test_praise_authors_are_kept_as_fans(client, agent) -> None:
    fan = Customer.objects.create(name="山田 花子")
    Identity.objects.create(customer=fan, kind=IdentityKind.X, value="hanako")
    for n in range(1, 4):
        _post(n, kind="praise", author_handle="hanako", author_name="はなこ", text="玉露が最高✨")
    _post(9, kind="praise", author_handle="ken", author_name="Ｋｅｎ")
    rows = services.fans()
    assert [(row["author_handle"], row["n"], row["customer_id"]) for row in rows] == [("hanako", 3, fan.pk), ("ken", 1, None)]
    client.force_login(agent)
    html = client.get(reverse("listening:queue"), {"kind": "praise"}).content.decode()
    assert 'data-testid="praise-authors"' in html and reverse("customers:detail", args=[fan.pk]) in html
