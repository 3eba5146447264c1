"""Merging two cases of one customer and linking related cases (issue 22, item 4): what moves,
what is refused, the undo, the audit, the pages, and the channels following a merge."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from madoguchi.cases import services
from madoguchi.cases.models import (
    AuditEvent,
    Case,
    CaseLink,
    Channel,
    Commitment,
    Compensation,
    CompensationState,
    Interaction,
    InteractionKind,
    MergeRecord,
    Status,
)
from madoguchi.testing.factories import (
    CaseFactory,
    CommitmentFactory,
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)


@pytest.fixture
def two_cases():
    """One customer who wrote twice about one parcel: a mail and, the next day, a phone call."""
    customer = CustomerFactory(name="山田 花子")
    agent = UserFactory(display_name="田中 健太")
    mail_case = CaseFactory(customer=customer, subject="急須がまだ届きません", status=Status.OPEN, assignee=agent,
                            received_at=ago(30), order=OrderFactory(customer=customer, number="1001"))
    phone_case = CaseFactory(customer=customer, subject="お電話: 配送の件", channel=Channel.PHONE, status=Status.OPEN,
                             assignee=agent, received_at=ago(20))
    InteractionFactory(case=mail_case, occurred_at=ago(30), body="11月20日に注文した急須がまだ届きません。")
    InteractionFactory(case=phone_case, occurred_at=ago(20), channel=Channel.PHONE, body="（受電）昨日メールした件で電話しました。")
    InteractionFactory(case=mail_case, occurred_at=ago(10), kind=InteractionKind.OUTBOUND, author=agent,
                       body="ご不便をおかけしております。配送業者に確認いたします。")
    InteractionFactory(case=phone_case, occurred_at=ago(5), channel=Channel.PHONE, body="（受電）まだ届いていないそうです。")
    return {"customer": customer, "agent": agent, "source": phone_case, "target": mail_case}


def test_merge_moves_timeline_promises_and_compensations_and_closes_the_source(two_cases):
    agent, source, target = two_cases["agent"], two_cases["source"], two_cases["target"]
    promise = services.do_add_commitment(source, actor=agent, description="配送業者に確認し、本日中にお電話する",
                                         due_at=timezone.now() + dt.timedelta(hours=4))
    coupon = services.do_request_compensation(source, actor=agent, kind="coupon", amount_yen=500, reason="配送遅延のお詫び")
    target_own = CommitmentFactory(case=target, description="再発送の可否を物流部に確認する")
    Case.objects.filter(pk=source.pk).update(unread_by_assignee=True)  # the customer's call nobody has read

    record = services.do_merge_cases(source, target, actor=agent)

    assert set(Interaction.objects.filter(case=target).values_list("body", flat=True)) >= {
        "（受電）昨日メールした件で電話しました。", "（受電）まだ届いていないそうです。", "11月20日に注文した急須がまだ届きません。"}
    assert not Interaction.objects.filter(case=source).exists()
    assert set(Commitment.objects.filter(case=target)) == {promise, target_own}
    kept = Compensation.objects.get(pk=coupon.pk)
    assert kept.case_id == target.pk and kept.state == CompensationState.GRANTED and kept.amount_yen == 500
    source.refresh_from_db()
    assert source.status == Status.CLOSED and source.merged_into_id == target.pk and source.resolved_at is not None
    assert record.moved["cases.Commitment:case"] == [promise.pk]
    target.refresh_from_db()
    assert target.unread_by_assignee  # 「新着返信」 follows the message
    assert AuditEvent.objects.get(case=source, action="merged_into").changes["target"] == target.pk
    assert AuditEvent.objects.get(case=target, action="merged_from").changes["source"] == source.pk


def test_the_merged_timeline_interleaves_both_cases_by_time(client, two_cases):
    services.do_merge_cases(two_cases["source"], two_cases["target"], actor=two_cases["agent"])
    client.force_login(two_cases["agent"])
    html = client.get(f"/cases/{two_cases['target'].pk}/").content.decode()
    order = ["11月20日に注文した急須がまだ届きません。", "（受電）昨日メールした件で電話しました。",
             "ご不便をおかけしております。", "（受電）まだ届いていないそうです。"]
    timeline = html[html.index('class="timeline"'):]
    positions = [timeline.index(text) for text in order]
    assert positions == sorted(positions)
    assert "をこの案件に統合しました" in html and "統合を取り消す" in html


def test_the_target_takes_the_order_link_it_lacked(two_cases):
    agent, source, target = two_cases["agent"], two_cases["target"], two_cases["source"]  # the mail case (with order) into the phone case
    record = services.do_merge_cases(source, target, actor=agent)
    target.refresh_from_db()
    assert target.order is not None and target.order.number == "1001"
    services.do_undo_merge(record, actor=agent)
    target.refresh_from_db()
    assert target.order is None


def test_a_case_of_another_customer_is_refused_in_japanese_and_nothing_moves(two_cases):
    stranger_case = CaseFactory(customer=CustomerFactory(name="佐藤 一郎"), status=Status.OPEN)
    with pytest.raises(services.CaseError, match="別のお客様の案件のため統合できません"):
        services.do_merge_cases(two_cases["source"], stranger_case, actor=two_cases["agent"])
    assert Interaction.objects.filter(case=two_cases["source"]).count() == 2
    assert not MergeRecord.objects.exists()


@pytest.mark.parametrize("problem", ["itself", "resolved_target", "already_merged"])
def test_merges_that_make_no_sense_are_refused(two_cases, problem):
    source, target, agent = two_cases["source"], two_cases["target"], two_cases["agent"]
    if problem == "itself":
        target = source
    elif problem == "resolved_target":
        Case.objects.filter(pk=target.pk).update(status=Status.RESOLVED)
    else:
        services.do_merge_cases(source, target, actor=agent)
        target = CaseFactory(customer=two_cases["customer"], status=Status.OPEN)
    with pytest.raises(services.CaseError):
        services.do_merge_cases(source, target, actor=agent)


def test_undo_puts_back_exactly_what_moved(two_cases):
    agent, source, target = two_cases["agent"], two_cases["source"], two_cases["target"]
    promise = services.do_add_commitment(source, actor=agent, description="本日中にお電話する",
                                         due_at=timezone.now() + dt.timedelta(hours=4))
    services.do_request_compensation(source, actor=agent, kind="coupon", amount_yen=300, reason="お詫び")
    before = {model: sorted(model.objects.filter(case=source).values_list("pk", flat=True))
              for model in (Interaction, Commitment, Compensation)}
    target_before = sorted(Interaction.objects.filter(case=target).values_list("pk", flat=True))
    record = services.do_merge_cases(source, target, actor=agent)

    services.do_undo_merge(record, actor=agent)

    for model, pks in before.items():
        assert sorted(model.objects.filter(case=source).values_list("pk", flat=True)) == pks
    assert sorted(Interaction.objects.filter(case=target).values_list("pk", flat=True)) == target_before
    assert Commitment.objects.get(pk=promise.pk).case_id == source.pk
    source.refresh_from_db()
    assert source.status == Status.OPEN and source.merged_into_id is None and source.resolved_at is None
    record.refresh_from_db()
    assert record.undone_at is not None and record.undone_by == agent
    assert AuditEvent.objects.filter(action="merge_undone", case__in=[source, target]).count() == 2
    with pytest.raises(services.CaseError, match="すでに取り消されています"):
        services.do_undo_merge(record, actor=agent)


def test_undo_is_refused_once_new_activity_makes_it_ambiguous(two_cases):
    agent = two_cases["agent"]
    record = services.do_merge_cases(two_cases["source"], two_cases["target"], actor=agent)
    MergeRecord.objects.filter(pk=record.pk).update(at=ago(1))
    record.refresh_from_db()
    services.do_add_interaction(two_cases["target"], actor=None, kind=InteractionKind.INBOUND, channel=Channel.EMAIL,
                                body="まだ届きません。いつ届きますか。")
    with pytest.raises(services.CaseError, match="どちらの案件のものか決められない"):
        services.do_undo_merge(record, actor=agent)


def test_undo_is_refused_after_the_window(two_cases):
    record = services.do_merge_cases(two_cases["source"], two_cases["target"], actor=two_cases["agent"])
    MergeRecord.objects.filter(pk=record.pk).update(at=ago(24 * (services.MERGE_UNDO_DAYS + 1)))
    record.refresh_from_db()
    with pytest.raises(services.CaseError, match="日を過ぎたため取り消せません"):
        services.do_undo_merge(record, actor=two_cases["agent"])


def test_a_reply_on_a_page_left_open_on_the_merged_case_is_not_sent(two_cases):
    source = two_cases["source"]
    services.do_merge_cases(source, two_cases["target"], actor=two_cases["agent"])
    with pytest.raises(services.CaseError, match="統合されました"):
        services.do_send_reply(source, actor=two_cases["agent"], body="ご連絡ありがとうございます。")


def test_pages_merge_redirect_and_refuse_another_customers_case(client, two_cases):
    agent, source, target = two_cases["agent"], two_cases["source"], two_cases["target"]
    client.force_login(agent)
    form = client.get(f"/cases/{source.pk}/parts/merge/").content.decode()
    assert f"#{target.pk} 急須がまだ届きません" in form  # the customer's other open case is offered
    stranger_case = CaseFactory(customer=CustomerFactory(name="佐藤 一郎"), status=Status.OPEN)
    refused = client.post(f"/cases/{source.pk}/merge/", {"mg-number": f"＃{stranger_case.pk}", "mg-confirm": "on"})
    assert refused.status_code == 400 and "別のお客様の案件のため統合できません" in refused.content.decode()
    unconfirmed = client.post(f"/cases/{source.pk}/merge/", {"mg-target": str(target.pk)})
    assert unconfirmed.status_code == 400 and "チェックを入れてください" in unconfirmed.content.decode()
    bad = client.post(f"/cases/{source.pk}/merge/", {"mg-number": "abc", "mg-confirm": "on"})
    assert bad.status_code == 400 and "案件番号は数字で入力してください" in bad.content.decode()
    merged = client.post(f"/cases/{source.pk}/merge/", {"mg-target": str(target.pk), "mg-confirm": "on"})
    assert merged.status_code == 302 and merged["Location"] == f"/cases/{target.pk}/"
    followed = client.get(f"/cases/{source.pk}/", follow=True)
    assert followed.redirect_chain[-1][0] == f"/cases/{target.pk}/"
    assert f"案件 #{source.pk} は案件 #{target.pk} に統合されました" in followed.content.decode()
    kept = client.get(f"/cases/{source.pk}/?merged").content.decode()
    assert "に統合されました" in kept and 'data-testid="merged-banner"' in kept
    record = MergeRecord.objects.get()
    undone = client.post(f"/cases/merges/{record.pk}/undo/")
    assert undone["Location"] == f"/cases/{source.pk}/"
    assert Case.objects.get(pk=source.pk).merged_into_id is None


def test_links_are_symmetric_shown_on_both_pages_removable_and_audited(client, two_cases):
    agent = two_cases["agent"]
    one = two_cases["target"]
    other_customer = CaseFactory(customer=CustomerFactory(name="佐藤 一郎"), subject="ヤマト運輸の遅延で届かない")
    link = services.do_link_cases(other_customer, one, actor=agent, note="11月21日 関東の配送遅延")
    assert (link.case_a_id, link.case_b_id) == tuple(sorted((one.pk, other_customer.pk)))
    with pytest.raises(services.CaseError, match="すでにリンクしています"):
        services.do_link_cases(one, other_customer, actor=agent)
    with pytest.raises(services.CaseError, match="リンクできません"):
        services.do_link_cases(one, one, actor=agent)
    client.force_login(agent)
    for case, shown in ((one, other_customer), (other_customer, one)):
        html = client.get(f"/cases/{case.pk}/").content.decode()
        assert f'data-testid="link-{shown.pk}"' in html and "11月21日 関東の配送遅延" in html
    assert AuditEvent.objects.filter(action="linked").count() == 2
    response = client.post(f"/cases/{one.pk}/links/{link.pk}/remove/")
    assert response.status_code == 302 and not CaseLink.objects.exists()
    assert AuditEvent.objects.filter(action="unlinked").count() == 2
    missing = client.post(f"/cases/{one.pk}/links/", {"ln-number": "999999", "ln-note": ""})
    assert missing.status_code == 400 and "見つかりません" in missing.content.decode()


def test_a_line_message_for_a_merged_line_case_lands_in_the_target(two_cases):
    from madoguchi.line.ingest import open_line_case

    customer = two_cases["customer"]
    line_case = CaseFactory(customer=customer, channel=Channel.LINE, status=Status.OPEN, subject="LINE: 届かない")
    services.do_merge_cases(line_case, two_cases["target"], actor=two_cases["agent"])
    assert open_line_case(customer.pk) == two_cases["target"]


def test_chat_form_attachments_and_the_chat_session_move_with_the_case(two_cases):
    from madoguchi.chat.models import ChatSession

    source, target = two_cases["source"], two_cases["target"]
    session = ChatSession.objects.create(case=source, name="山田 花子")
    record = services.do_merge_cases(source, target, actor=two_cases["agent"])
    session.refresh_from_db()
    assert session.case_id == target.pk and record.moved["chat.ChatSession:case"] == [session.pk]
    services.do_undo_merge(record, actor=two_cases["agent"])
    session.refresh_from_db()
    assert session.case_id == source.pk


@pytest.mark.usefixtures("shop_open")
def test_a_customer_mail_replying_to_the_merged_cases_thread_lands_in_the_target(django_capture_on_commit_callbacks):
    from madoguchi.mail.ingest import do_ingest_raw
    from madoguchi.mail.models import OutboundKind, OutboundMessage
    from madoguchi.mail.tests.helpers import japanese_mail

    def ingest(raw: bytes) -> Case:
        with django_capture_on_commit_callbacks(execute=True):
            row, _created = do_ingest_raw(raw, "test")
        row.refresh_from_db()
        assert row.case is not None
        return row.case

    source = ingest(japanese_mail(subject="急須が届きません", message_id="<hanako-1@example.jp>"))
    ack = OutboundMessage.objects.get(case=source, kind=OutboundKind.ACK)
    target = CaseFactory(customer=source.customer, subject="お電話: 急須の配送", channel=Channel.PHONE, status=Status.OPEN)
    agent = UserFactory()
    record = services.do_merge_cases(source, target, actor=agent)

    by_headers = ingest(japanese_mail(subject="Re: 別の件名", headers={"In-Reply-To": ack.message_id},
                                      body="まだ届いていません。", message_id="<hanako-2@example.jp>"))
    by_token = ingest(japanese_mail(subject=f"Re: 急須が届きません [#{source.pk}]", body="追伸です。",
                                    message_id="<hanako-3@example.jp>"))
    by_references = ingest(japanese_mail(subject="Re:", headers={"References": "<hanako-1@example.jp>"},
                                         body="写真を添付します。", message_id="<hanako-4@example.jp>"))
    assert by_headers == by_token == by_references == target
    source.refresh_from_db()
    assert source.status == Status.CLOSED and not Interaction.objects.filter(case=source).exists()
    with pytest.raises(services.CaseError):  # the customer wrote since: whose are the new mails?
        services.do_undo_merge(record, actor=agent)


@pytest.mark.skipif("connection.vendor != 'postgresql'",
                    reason="row locks are PostgreSQL's; SQLite runs write transactions one at a time (BEGIN IMMEDIATE)")
@pytest.mark.django_db(transaction=True)
def test_two_opposite_merges_at_once_wait_for_each_other_and_the_second_is_refused():
    """A into B in one transaction while B into A starts in another: the second waits on the
    locked rows (customer, then both cases in id order: no deadlock), then sees A merged and is
    refused; nothing is lost either way."""
    customer = CustomerFactory(name="山田 花子")
    agent = UserFactory()
    a = CaseFactory(customer=customer, status=Status.OPEN, subject="急須が届きません")
    b = CaseFactory(customer=customer, status=Status.OPEN, subject="お電話: 配送の件")
    InteractionFactory(case=a, body="まだ届きません。")
    InteractionFactory(case=b, body="（受電）配送の件です。")
    outcome: list[str] = []

    def opposite() -> None:
        try:
            services.do_merge_cases(b, a, actor=agent)
            outcome.append("merged")
        except services.CaseError as error:
            outcome.append(str(error))
        finally:
            connection.close()

    with transaction.atomic():
        services.do_merge_cases(a, b, actor=agent)
        thread = threading.Thread(target=opposite)
        thread.start()
        time.sleep(1.0)
        assert not outcome, "the opposite merge must wait for the first to commit"
    thread.join(timeout=30)
    assert len(outcome) == 1 and "統合されています" in outcome[0]
    assert Interaction.objects.filter(case=b).count() == 2 and MergeRecord.objects.count() == 1


def test_a_chat_message_for_a_merged_case_whose_session_stayed_behind_lands_in_the_target(two_cases):
    """Both cases had a chat: the target keeps its own, the source's session stays on the source,
    and what the visitor still writes in it (batched or one by one) goes to the target."""
    from madoguchi.chat import storage
    from madoguchi.chat.models import ChatSession

    source, target = two_cases["source"], two_cases["target"]
    left_behind = ChatSession.objects.create(case=source, name="山田 花子")
    ChatSession.objects.create(case=target, name="山田 花子")
    services.do_merge_cases(source, target, actor=two_cases["agent"])
    left_behind.refresh_from_db()
    assert left_behind.case_id == source.pk
    results = storage.store_batch([storage.Pending(left_behind, "c-1", "まだ届いていません。")])
    assert not isinstance(results[0], Exception)
    Case.objects.filter(pk=target.pk).update(status=Status.RESOLVED)  # a message that reopens goes one by one
    storage.store_batch([storage.Pending(left_behind, "c-2", "やはり届いていません。")])
    bodies = set(Interaction.objects.filter(case=target, channel=Channel.CHAT).values_list("body", flat=True))
    assert {"まだ届いていません。", "やはり届いていません。"} <= bodies
    assert not Interaction.objects.filter(case=source).exists()
    assert Case.objects.get(pk=target.pk).status == Status.OPEN and Case.objects.get(pk=source.pk).status == Status.CLOSED
