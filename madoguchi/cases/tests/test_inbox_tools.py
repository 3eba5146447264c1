"""Inbox tools (issue 22 item 3): tags, custom fields, saved views, bulk actions, and the inbox
staying at a constant number of queries with them in place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madoguchi.accounts.models import Role, SettingsChange
from madoguchi.cases import bulk, labels, saved_views, services
from madoguchi.cases.models import (
    AuditEvent,
    Case,
    CaseTag,
    Category,
    CustomField,
    CustomFieldValue,
    FieldKind,
    MergeRecord,
    SavedView,
    Status,
    Tag,
)
from madoguchi.testing.factories import CaseFactory, CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    lead = UserFactory(username="lead", display_name="佐藤 美穂", role=Role.LEAD)
    team = TeamFactory(name="サポート1課", lead=lead)
    lead.team = team
    lead.save()
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    colleague = UserFactory(username="suzuki", display_name="鈴木 一郎", team=team)
    outsider = UserFactory(username="ito", display_name="伊藤 さくら", team=TeamFactory(name="物流課"))
    admin = UserFactory(username="admin", display_name="管理 太郎", role=Role.ADMIN)
    return {"lead": lead, "team": team, "agent": agent, "colleague": colleague, "outsider": outsider, "admin": admin}


def rows_of(html: str) -> set[int]:
    import re

    return {int(pk) for pk in re.findall(r'name="case" value="(\d+)\.', html)}


# ---- tags ---------------------------------------------------------------------------------------


def test_tags_are_made_by_leads_and_admins_with_a_palette_colour_and_a_unique_name(people):
    tag = labels.do_create_tag(actor=people["lead"], name="　返品希望 ", colour="red")
    assert tag.name == "返品希望" and tag.colour == "red"
    with pytest.raises(services.CaseError, match="タグを作れるのは管理者とチームリーダー"):
        labels.do_create_tag(actor=people["agent"], name="VIP", colour="blue")
    with pytest.raises(services.CaseError, match="すでにあります"):
        labels.do_create_tag(actor=people["admin"], name="返品希望", colour="blue")
    with pytest.raises(services.CaseError, match="色は用意された中から"):
        labels.do_create_tag(actor=people["admin"], name="VIP", colour="#ff0000")
    with pytest.raises(services.CaseError, match="タグ名を入力"):
        labels.do_create_tag(actor=people["admin"], name="  ", colour="blue")


def test_an_agent_tags_and_untags_a_case_on_its_page_by_htmx_audited(client, people):
    tag = labels.do_create_tag(actor=people["lead"], name="返品希望", colour="red")
    case = CaseFactory(assignee=people["agent"], team=people["team"], status=Status.OPEN)
    client.force_login(people["agent"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="case-labels"' in page and "返品希望" in page  # offered in the add menu
    answer = client.post(f"/cases/{case.pk}/tags/", {"tag": tag.pk}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and 'data-testid="case-tag"' in answer.content.decode()
    assert CaseTag.objects.filter(case=case, tag=tag).exists()
    event = AuditEvent.objects.get(case=case, action="tag_added")
    assert event.actor == people["agent"] and event.changes == {"tag": "返品希望"}
    assert "タグを追加" in client.get(f"/cases/{case.pk}/").content.decode()  # in the change history
    assert not labels.do_tag_case(case, tag, actor=people["agent"])  # twice: nothing more written
    assert AuditEvent.objects.filter(case=case, action="tag_added").count() == 1
    answer = client.post(f"/cases/{case.pk}/tags/{tag.pk}/remove/", HTTP_HX_REQUEST="true")
    assert 'data-testid="case-tag"' not in answer.content.decode()
    assert AuditEvent.objects.filter(case=case, action="tag_removed").exists()
    again = client.post(f"/cases/{case.pk}/tags/{tag.pk}/remove/", HTTP_HX_REQUEST="true").content.decode()
    assert "すでに外されています" in again
    bad = client.post(f"/cases/{case.pk}/tags/", {"tag": "abc"}, HTTP_HX_REQUEST="true").content.decode()
    assert "追加するタグを選んでください" in bad


def test_the_inbox_shows_tags_filters_by_a_tag_and_finds_cases_by_tag_name(client, people):
    vip = labels.do_create_tag(actor=people["lead"], name="VIP顧客", colour="purple")
    back = labels.do_create_tag(actor=people["lead"], name="返品希望", colour="red")
    tagged = CaseFactory(team=people["team"], status=Status.OPEN, subject="箱がつぶれていた")
    other = CaseFactory(team=people["team"], status=Status.OPEN, subject="色が違う")
    labels.do_tag_case(tagged, vip, actor=people["agent"])
    labels.do_tag_case(other, back, actor=people["agent"])
    client.force_login(people["agent"])
    everything = client.get("/?queue=all").content.decode()
    assert rows_of(everything) == {tagged.pk, other.pk}
    assert 'class="tag tag-purple" data-testid="tag">VIP顧客' in everything
    assert rows_of(client.get(f"/?queue=all&tag={vip.pk}").content.decode()) == {tagged.pk}
    assert rows_of(client.get("/?queue=all&tagq=返品").content.decode()) == {other.pk}
    assert rows_of(client.get("/?queue=all&tagq=ｖｉｐ").content.decode()) == {tagged.pk}  # width folded, any case
    assert rows_of(client.get("/?queue=all&tag=abc").content.decode()) == {tagged.pk, other.pk}  # bad: ignored


def test_deleting_a_tag_takes_it_off_its_cases_audited_on_each_and_in_the_settings_trail(client, people):
    tag = labels.do_create_tag(actor=people["lead"], name="至急", colour="orange")
    case = CaseFactory()
    labels.do_tag_case(case, tag, actor=people["agent"])
    client.force_login(people["lead"])
    client.post(f"/settings/labels/tags/{tag.pk}/delete/")
    assert not Tag.objects.exists() and not CaseTag.objects.exists()
    assert AuditEvent.objects.filter(case=case, action="tag_removed", changes__why="tag_deleted").exists()
    assert SettingsChange.objects.filter(action="delete", object_repr="至急").exists()


def test_tag_settings_page_is_for_leads_and_admins_and_rejects_bad_input_in_japanese(client, people):
    client.force_login(people["agent"])
    assert client.get("/settings/labels/").status_code == 403
    client.force_login(people["lead"])
    page = client.get("/settings/labels/").content.decode()
    assert "タグ" in page and 'data-testid="field-form"' not in page  # custom fields are the admins'
    answer = client.post("/settings/labels/tags/", {"tag-name": "返品希望", "tag-colour": "green"})
    assert answer.status_code == 302 and Tag.objects.get(name="返品希望").colour == "green"
    assert SettingsChange.objects.filter(action="add", object_repr="返品希望").exists()
    clash = client.post("/settings/labels/tags/", {"tag-name": "返品希望", "tag-colour": "green"})
    assert clash.status_code == 400 and "すでにあります" in clash.content.decode()
    assert 'value="返品希望"' in clash.content.decode()  # what was typed is kept
    bad = client.post("/settings/labels/tags/", {"tag-name": "x", "tag-colour": "black"})
    assert bad.status_code == 400 and Tag.objects.count() == 1


# ---- custom fields ------------------------------------------------------------------------------


@pytest.fixture
def fields(people):
    admin = people["admin"]
    return {
        "slip": labels.do_define_field(None, actor=admin, label="返品伝票番号", kind="text", choices=[]),
        "amount": labels.do_define_field(None, actor=admin, label="返金予定額", kind="number", choices=[]),
        "visit": labels.do_define_field(None, actor=admin, label="来店日", kind="date", choices=[]),
        "shop": labels.do_define_field(None, actor=admin, label="購入店舗", kind="choice", choices=["本店", "オンライン"]),
    }


def test_custom_fields_are_defined_by_admins_only_with_japanese_refusals(people, fields):
    with pytest.raises(services.CaseError, match="管理者です"):
        labels.do_define_field(None, actor=people["lead"], label="X", kind="text", choices=[])
    with pytest.raises(services.CaseError, match="選択肢を1行に1つずつ"):
        labels.do_define_field(None, actor=people["admin"], label="地域", kind="choice", choices=[])
    with pytest.raises(services.CaseError, match="すでにあります"):
        labels.do_define_field(None, actor=people["admin"], label="返品伝票番号", kind="text", choices=[])
    case = CaseFactory()
    labels.do_set_field_values(case, actor=people["agent"], raw={fields["amount"].pk: "1200"})
    with pytest.raises(services.CaseError, match="種類は変えられません"):
        labels.do_define_field(fields["amount"], actor=people["admin"], label="返金予定額", kind="text", choices=[])
    assert labels.parse_choices("本店\n\n オンライン \n本店") == ["本店", "オンライン"]


def test_field_settings_form_saves_audited_and_bad_input_is_a_japanese_400(client, people):
    client.force_login(people["admin"])
    ok = client.post("/settings/labels/fields/", {"field-label": "購入店舗", "field-kind": "choice",
                                                  "field-choices": "本店\nオンライン", "field-position": "1", "field-active": "on"})
    assert ok.status_code == 302
    field = CustomField.objects.get(label="購入店舗")
    assert field.choices == ["本店", "オンライン"] and field.active
    assert SettingsChange.objects.filter(action="add", object_repr="購入店舗").exists()
    bad = client.post("/settings/labels/fields/", {"field-label": "地域", "field-kind": "choice", "field-choices": "",
                                                   "field-position": "0"})
    assert bad.status_code == 400 and "選択肢を1行に1つずつ" in bad.content.decode()
    assert 'value="地域"' in bad.content.decode()
    client.force_login(people["lead"])
    assert client.post("/settings/labels/fields/", {"field-label": "Y", "field-kind": "text", "field-position": "0"}).status_code == 403


def test_values_are_checked_per_kind_with_japanese_errors_and_a_bad_one_writes_nothing(people, fields):
    case = CaseFactory()
    agent = people["agent"]
    with pytest.raises(services.CaseError) as refused:
        labels.do_set_field_values(case, actor=agent, raw={fields["slip"].pk: "R-100", fields["amount"].pk: "千円"})
    assert "返金予定額: 数値で入力してください" in str(refused.value)
    assert not CustomFieldValue.objects.exists()
    for field, typed, message in [(fields["visit"], "12月7日", "年-月-日"), (fields["visit"], "2026-02-30", "年-月-日"),
                                  (fields["shop"], "駅前店", "選択肢から選んでください")]:
        with pytest.raises(services.CaseError, match=message):
            labels.do_set_field_values(case, actor=agent, raw={field.pk: typed})
    diff = labels.do_set_field_values(case, actor=agent, raw={
        fields["slip"].pk: "R-100", fields["amount"].pk: "１，２００", fields["visit"].pk: "２０２６/１２/０５",
        fields["shop"].pk: "本店"})
    assert diff == {"返品伝票番号": ["", "R-100"], "返金予定額": ["", "1200"], "来店日": ["", "2026/12/05"], "購入店舗": ["", "本店"]}
    assert CustomFieldValue.objects.get(field=fields["amount"]).number == Decimal("1200")
    assert CustomFieldValue.objects.get(field=fields["visit"]).date == dt.date(2026, 12, 5)
    assert AuditEvent.objects.get(case=case, action="field_set").changes["購入店舗"] == ["", "本店"]
    assert labels.do_set_field_values(case, actor=agent, raw={fields["shop"].pk: "本店"}) == {}  # unchanged: no entry
    assert labels.do_set_field_values(case, actor=agent, raw={fields["slip"].pk: ""}) == {"返品伝票番号": ["R-100", ""]}
    assert not CustomFieldValue.objects.filter(field=fields["slip"]).exists()


def test_case_page_sets_fields_and_shows_the_japanese_error_with_what_was_typed(client, people, fields):
    case = CaseFactory()
    client.force_login(people["agent"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "返品伝票番号" in page and "購入店舗" in page
    bad = client.post(f"/cases/{case.pk}/fields/", {f"f-{fields['amount'].pk}": "たくさん"}, HTTP_HX_REQUEST="true").content.decode()
    assert "数値で入力してください" in bad and 'value="たくさん"' in bad
    ok = client.post(f"/cases/{case.pk}/fields/", {f"f-{fields['amount'].pk}": "3.5", f"f-{fields['shop'].pk}": "オンライン"},
                     HTTP_HX_REQUEST="true").content.decode()
    assert "独自項目を保存しました" in ok and 'value="3.5"' in ok
    plain = client.post(f"/cases/{case.pk}/fields/", {f"f-{fields['visit'].pk}": "昨日"})  # without htmx: back to the page
    assert plain.status_code == 302


def test_the_inbox_filters_by_custom_fields(client, people, fields):
    agent = people["agent"]
    one, two, three = (CaseFactory(status=Status.OPEN) for _ in range(3))
    labels.do_set_field_values(one, actor=agent, raw={fields["shop"].pk: "本店", fields["amount"].pk: "500",
                                                      fields["visit"].pk: "2026-12-01", fields["slip"].pk: "R-123-A"})
    labels.do_set_field_values(two, actor=agent, raw={fields["shop"].pk: "オンライン", fields["amount"].pk: "5000",
                                                      fields["visit"].pk: "2026-12-05", fields["slip"].pk: "x-999"})
    client.force_login(agent)
    shop, amount, visit, slip = (labels.filter_key(fields[k]) for k in ("shop", "amount", "visit", "slip"))
    assert shop == f"cfc{fields['shop'].pk}"
    assert rows_of(client.get(f"/?queue=all&{shop}=本店").content.decode()) == {one.pk}
    assert rows_of(client.get(f"/?queue=all&{amount}_min=1000").content.decode()) == {two.pk}
    assert rows_of(client.get(f"/?queue=all&{amount}_min=100&{amount}_max=１０００").content.decode()) == {one.pk}
    assert rows_of(client.get(f"/?queue=all&{visit}_min=2026-12-03").content.decode()) == {two.pk}
    assert rows_of(client.get(f"/?queue=all&{visit}_max=2026/12/03").content.decode()) == {one.pk}
    assert rows_of(client.get(f"/?queue=all&{slip}=r-123").content.decode()) == {one.pk}  # contains, any case
    assert rows_of(client.get(f"/?queue=all&{shop}=駅前店").content.decode()) == {one.pk, two.pk, three.pk}  # not an option
    assert rows_of(client.get(f"/?queue=all&{amount}_min=abc").content.decode()) == {one.pk, two.pk, three.pk}


# ---- saved views --------------------------------------------------------------------------------


def test_saved_views_personal_and_shared_listed_and_deleted_by_who_may(client, people):
    agent, colleague, lead, outsider = people["agent"], people["colleague"], people["lead"], people["outsider"]
    mine = saved_views.do_save_view(actor=agent, name="私の至急", query="queue=all&priority=4&cursor=x&bogus=1&sort=oldest",
                                    shared=False)
    assert mine.query == "queue=all&priority=4&sort=oldest"  # the page cursor and unknown keys are not kept
    shared = saved_views.do_save_view(actor=agent, name="返品の案件", query="queue=team&tag=3", shared=True)
    assert shared.team == people["team"]
    with pytest.raises(services.CaseError, match="すでにあります"):
        saved_views.do_save_view(actor=colleague, name="返品の案件", query="", shared=True)
    with pytest.raises(services.CaseError, match="名前を入力"):
        saved_views.do_save_view(actor=agent, name=" ", query="", shared=False)
    with pytest.raises(services.CaseError, match="チームに所属していない"):
        saved_views.do_save_view(actor=people["admin"], name="全件", query="", shared=True)
    assert [v.name for v in saved_views.views_for(agent)] == ["私の至急", "返品の案件"]
    assert [v.name for v in saved_views.views_for(colleague)] == ["返品の案件"]
    assert saved_views.views_for(outsider) == []
    client.force_login(colleague)
    inbox = client.get("/").content.decode()
    assert "返品の案件" in inbox and "私の至急" not in inbox and 'data-testid="delete-view"' not in inbox
    client.post(f"/views/{shared.pk}/delete/")
    assert SavedView.objects.filter(pk=shared.pk).exists()  # a colleague may not delete it
    client.post(f"/views/{mine.pk}/delete/")
    assert SavedView.objects.filter(pk=mine.pk).exists()
    client.force_login(lead)
    client.post(f"/views/{shared.pk}/delete/")  # the team's lead may
    assert not SavedView.objects.filter(pk=shared.pk).exists()
    client.force_login(agent)
    client.post(f"/views/{mine.pk}/delete/")
    assert not SavedView.objects.exists()


def test_saving_from_the_inbox_keeps_filters_and_sort_and_opens_it(client, people):
    client.force_login(people["agent"])
    inbox = client.get("/?queue=all&status=open&sort=oldest&cursor=2026-01-01T00:00:00|5").content.decode()
    assert 'name="query" value="queue=all&amp;sort=oldest&amp;status=open"' in inbox
    answer = client.post("/views/", {"name": "対応中（古い順）", "query": "queue=all&status=open&sort=oldest"})
    view = SavedView.objects.get()
    assert answer.status_code == 302 and answer["Location"].endswith(f"?view={view.pk}&queue=all&status=open&sort=oldest")
    refused = client.post("/views/", {"name": "", "query": "queue=all"}, follow=True).content.decode()
    assert "ビューの名前を入力してください" in refused


# ---- bulk actions -------------------------------------------------------------------------------


def selection(*cases: Case) -> list[tuple[int, int]]:
    return [(case.pk, case.version) for case in cases]


def test_bulk_assign_follows_the_role_rule_and_audits_each_case(people):
    agent, colleague, lead, outsider = people["agent"], people["colleague"], people["lead"], people["outsider"]
    a, b = CaseFactory(team=people["team"], status=Status.NEW), CaseFactory(team=people["team"], status=Status.OPEN)
    with pytest.raises(services.CaseError, match="自分以外の人への一括割り当てはできません"):
        bulk.do_bulk(agent, selection(a, b), "assign", str(colleague.pk))
    outcomes = bulk.do_bulk(agent, selection(a, b), "assign", str(agent.pk))
    assert [o.ok for o in outcomes] == [True, True]
    assert set(Case.objects.values_list("assignee", flat=True)) == {agent.pk}
    assert AuditEvent.objects.filter(action="taken", actor=agent).count() == 2
    with pytest.raises(services.CaseError, match="自分のチームのメンバーだけ"):
        bulk.do_bulk(lead, selection(*Case.objects.all()), "assign", str(outsider.pk))
    a.refresh_from_db()
    b.refresh_from_db()
    done = bulk.do_bulk(lead, selection(a, b), "assign", str(colleague.pk))
    assert all(o.ok for o in done) and AuditEvent.objects.filter(action="handed_over", actor=lead).count() == 2
    assert bulk.do_bulk(people["admin"], selection(*Case.objects.all()), "assign", str(outsider.pk))[0].ok


def test_bulk_reports_per_case_what_was_done_and_what_was_refused(people):
    agent = people["agent"]
    fresh = CaseFactory(status=Status.OPEN)
    stale = CaseFactory(status=Status.OPEN)
    closed = CaseFactory(status=Status.CLOSED)
    shown = selection(fresh, stale, closed)
    services.do_update_case(stale, actor=people["colleague"], expected_version=stale.version, changes={"priority": 4})
    outcomes = bulk.do_bulk(agent, [*shown, (999999, 1)], "assign", str(agent.pk))
    by_case = {o.case_id: o for o in outcomes}
    assert by_case[fresh.pk].ok
    assert not by_case[stale.pk].ok and "先に更新しました" in by_case[stale.pk].message
    assert not by_case[closed.pk].ok and "解決済み・完了の案件は担当にできません" in by_case[closed.pk].message
    assert not by_case[999999].ok and "見つかりません" in by_case[999999].message
    assert Case.objects.get(pk=stale.pk).assignee is None


def test_bulk_status_category_and_tag_go_through_the_single_change_services(people):
    agent = people["agent"]
    a, b = CaseFactory(status=Status.OPEN), CaseFactory(status=Status.NEW)
    bulk.do_bulk(agent, selection(a, b), "status", Status.WAITING_DEPT)
    assert set(Case.objects.values_list("status", flat=True)) == {Status.WAITING_DEPT}
    assert AuditEvent.objects.filter(action="updated", changes__has_key="status").count() == 2
    a.refresh_from_db()
    b.refresh_from_db()
    category = Category.objects.exclude(pk=a.category_id).first()
    assert all(o.ok for o in bulk.do_bulk(agent, selection(a, b), "category", str(category.pk)))
    assert set(Case.objects.values_list("category", flat=True)) == {category.pk}
    tag = labels.do_create_tag(actor=people["lead"], name="一括", colour="blue")
    bulk.do_bulk(agent, selection(a, b), "tag", str(tag.pk))
    assert CaseTag.objects.filter(tag=tag).count() == 2
    again = bulk.do_bulk(agent, selection(a, b), "tag", str(tag.pk))
    assert all(o.ok and "変更なし" in o.message for o in again)
    with pytest.raises(services.CaseError, match="変更後の状態を選んでください"):
        bulk.do_bulk(agent, selection(a), "status", "bogus")
    with pytest.raises(services.CaseError, match="案件が選ばれていません"):
        bulk.do_bulk(agent, [], "status", Status.OPEN)


def test_bulk_merge_takes_one_customers_cases_into_the_oldest_open_one_and_refuses_mixed_customers(people):
    agent = people["agent"]
    customer = CustomerFactory()
    now = timezone.now()
    first = CaseFactory(customer=customer, status=Status.OPEN, received_at=now - dt.timedelta(days=2))
    second = CaseFactory(customer=customer, status=Status.NEW, received_at=now - dt.timedelta(days=1))
    third = CaseFactory(customer=customer, status=Status.OPEN, received_at=now)
    someone_else = CaseFactory(status=Status.OPEN)
    with pytest.raises(services.CaseError, match="お客様が同じではないため統合できません"):
        bulk.do_bulk(agent, selection(first, someone_else), "merge", "")
    with pytest.raises(services.CaseError, match="2件以上"):
        bulk.do_bulk(agent, selection(first), "merge", "")
    outcomes = bulk.do_bulk(agent, selection(third, first, second), "merge", "")
    assert all(o.ok for o in outcomes) and outcomes[0].case_id == first.pk
    assert set(MergeRecord.objects.values_list("source", "target")) == {(third.pk, first.pk), (second.pk, first.pk)}
    assert Case.objects.get(pk=third.pk).merged_into_id == first.pk


def test_bulk_view_renders_the_per_case_result_and_a_refusal_goes_back_with_a_message(client, people):
    agent = people["agent"]
    a, b = CaseFactory(status=Status.OPEN, subject="一つ目"), CaseFactory(status=Status.CLOSED, subject="二つ目")
    client.force_login(agent)
    page = client.post("/cases/bulk/", {"case": [f"{a.pk}.{a.version}", f"{b.pk}.{b.version}", "x.y"],
                                        "action": "assign", "assign_value": str(agent.pk), "next": "/?queue=all"})
    html = page.content.decode()
    assert page.status_code == 200 and "完了 1件、できなかったもの 1件" in html and "解決済み・完了の案件は担当にできません" in html
    assert 'href="/?queue=all"' in html
    refused = client.post("/cases/bulk/", {"case": [f"{a.pk}.{a.version}"], "action": "assign",
                                           "assign_value": str(people["colleague"].pk), "next": "https://evil.example/"})
    assert refused.status_code == 302 and refused["Location"] == "/"


# ---- speed --------------------------------------------------------------------------------------


def _inbox_queries(client, url: str) -> tuple[int, str]:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def _tagged_cases(n: int, tags: list[Tag], fields: list[CustomField], agent) -> None:
    for index in range(n):
        case = CaseFactory(status=Status.OPEN, received_at=timezone.now() - dt.timedelta(minutes=index))
        for tag in tags:
            labels.do_tag_case(case, tag, actor=agent)
        labels.do_set_field_values(case, actor=agent, raw={f.pk: ("本店" if f.kind == FieldKind.CHOICE else "7")
                                                           for f in fields})


@pytest.mark.parametrize("url", ["/?queue=all", "/?queue=all&tag={tag}&{field}=本店&{number}_min=1&tagq=タグ"])
def test_inbox_queries_stay_constant_from_1_to_20_rows_with_tags_fields_and_views(client, people, url):
    agent = people["agent"]
    tags = [labels.do_create_tag(actor=people["admin"], name=f"タグ{n}", colour="blue") for n in range(3)]
    fields = [labels.do_define_field(None, actor=people["admin"], label="店舗", kind="choice", choices=["本店"]),
              labels.do_define_field(None, actor=people["admin"], label="金額", kind="number", choices=[])]
    url = url.format(tag=tags[0].pk, field=labels.filter_key(fields[0]), number=labels.filter_key(fields[1]))
    saved_views.do_save_view(actor=agent, name="一つ目", query="queue=all", shared=True)
    client.force_login(agent)
    _tagged_cases(1, tags, fields, agent)
    small, html = _inbox_queries(client, url)
    assert len(rows_of(html)) == 1
    _tagged_cases(19, tags, fields, agent)
    more_tags = [labels.do_create_tag(actor=people["admin"], name=f"追加{n}", colour="red") for n in range(10)]
    for view in range(5):
        saved_views.do_save_view(actor=agent, name=f"ビュー{view}", query="queue=mine", shared=view % 2 == 0)
    for case in Case.objects.all()[:10]:
        for tag in more_tags:
            labels.do_tag_case(case, tag, actor=agent)
    large, html = _inbox_queries(client, url)
    assert len(rows_of(html)) == 20 and html.count('data-testid="tag"') >= 20 * 3
    assert large == small


def test_case_page_queries_stay_constant_with_tags_and_fields(client, people):
    agent = people["agent"]
    case = CaseFactory()
    tag = labels.do_create_tag(actor=people["admin"], name="一つ", colour="blue")
    field = labels.do_define_field(None, actor=people["admin"], label="番号", kind="text", choices=[])
    labels.do_tag_case(case, tag, actor=agent)
    labels.do_set_field_values(case, actor=agent, raw={field.pk: "A"})
    client.force_login(agent)
    small, _html = _inbox_queries(client, f"/cases/{case.pk}/")
    for n in range(8):
        extra = labels.do_create_tag(actor=people["admin"], name=f"追加{n}", colour="red")
        labels.do_tag_case(case, extra, actor=agent)
        other = labels.do_define_field(None, actor=people["admin"], label=f"項目{n}", kind="number", choices=[])
        labels.do_set_field_values(case, actor=agent, raw={other.pk: str(n)})
    large, html = _inbox_queries(client, f"/cases/{case.pk}/")
    assert html.count('data-testid="case-tag"') == 9
    assert large == small
