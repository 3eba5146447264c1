"""Similar complaints end up together: by what they share (category, carrier, product,
passage) and by their words, measured on generated Japanese complaints of known topics."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from sklearn.metrics import adjusted_rand_score

from madoguchi.jobs.models import PendingWork
from madoguchi.patterns import samples, services
from madoguchi.patterns.models import Cluster, Member, Progress
from madoguchi.patterns.tests.helpers import complaint_case
from madoguchi.testing.factories import PassageFactory, ProductFactory

pytestmark = pytest.mark.django_db

DELIVERY = ["late", "wet", "crushed", "absent"]


def topics_by_cluster(cases: dict[int, str]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for case_id, cluster_id in Member.objects.filter(case_id__in=list(cases)).values_list("case_id", "cluster_id"):
        found[cluster_id].append(cases[case_id])
    return found


def test_generated_delivery_complaints_about_one_carrier_group_by_what_went_wrong() -> None:
    cases = {complaint_case(c.text, carrier="yamato").pk: c.topic for c in samples.complaints(DELIVERY, 12)}
    assert services.assign_cases(list(cases)) == 48
    groups = topics_by_cluster(cases)
    assert all(Cluster.objects.get(pk=pk).carrier == "yamato" for pk in groups)
    # Every cluster is (almost) one topic, and most of each topic is in one cluster.
    purity = sum(Counter(topics).most_common(1)[0][1] for topics in groups.values()) / 48
    assert purity >= 0.95
    for topic in DELIVERY:
        largest = max(topics.count(topic) for topics in groups.values())
        assert largest >= 9, (topic, dict(groups))
    truth = list(cases.values())
    cluster_of = dict(Member.objects.values_list("case_id", "cluster_id"))
    assert adjusted_rand_score(truth, [cluster_of[pk] for pk in cases]) >= 0.6
    labels = {Cluster.objects.get(pk=pk).label for pk, topics in groups.items() if Counter(topics).most_common(1)[0][0] == "wet"}
    assert any("置き配" in label or "雨" in label for label in labels)


def test_the_key_keeps_carriers_products_and_passages_apart() -> None:
    mug = ProductFactory(name="有田焼 マグカップ")
    passage = PassageFactory(product=mug, text="電子レンジ・食器洗い乾燥機に対応しています。")
    late = "到着予定日を3日過ぎても荷物が届きません。配送状況を確認してください。"
    yamato = complaint_case(late, carrier="yamato")
    sagawa = complaint_case(late, carrier="sagawa")
    unknown = complaint_case(late)
    # A defect names the product (the agent linked it), a misread description its passage.
    broken = complaint_case("届いたマグカップにヒビが入っていました。", category="defect", product=mug, carrier="yamato")
    misread = complaint_case("電子レンジ対応と書いてあったのにレンジで温めたら割れました。", category="description", passage=passage)
    services.assign_cases([yamato.pk, sagawa.pk, unknown.pk, broken.pk, misread.pk])
    clusters = {case.pk: Member.objects.get(case=case).cluster for case in (yamato, sagawa, unknown, broken, misread)}
    assert len({c.pk for c in clusters.values()}) == 5
    assert (clusters[yamato.pk].carrier, clusters[sagawa.pk].carrier, clusters[unknown.pk].carrier) == ("yamato", "sagawa", "")
    assert clusters[broken.pk].product == mug and clusters[broken.pk].carrier == ""  # a defect is the product's
    assert clusters[misread.pk].passage == passage and clusters[misread.pk].product == mug
    assert clusters[yamato.pk].category.code == "delivery" and clusters[misread.pk].category.code == "description"


def test_a_case_stays_in_its_cluster_and_a_new_one_joins_the_nearest() -> None:
    first = {complaint_case(c.text, carrier="yamato").pk: c.topic for c in samples.complaints(DELIVERY, 8, seed=1)}
    services.assign_cases(list(first))
    before = dict(Member.objects.values_list("case_id", "cluster_id"))
    clusters_before = Cluster.objects.count()
    wet_cluster = Counter(before[pk] for pk, topic in first.items() if topic == "wet").most_common(1)[0][0]
    late_cluster = Counter(before[pk] for pk, topic in first.items() if topic == "late").most_common(1)[0][0]
    wet = complaint_case("雨の日に置き配されて、箱が濡れていました。中の商品も濡れています。", carrier="yamato")
    late = complaint_case("予定日を過ぎてもまだ届きません。いつ届きますか。", carrier="yamato")
    # Placing again changes nothing that was placed (the same cases twice: no second membership).
    assert services.assign_cases([*first, wet.pk, late.pk]) == 2
    after = dict(Member.objects.values_list("case_id", "cluster_id"))
    assert {pk: after[pk] for pk in before} == before
    assert after[wet.pk] == wet_cluster and after[late.pk] == late_cluster
    assert Cluster.objects.count() == clusters_before
    assert Cluster.objects.get(pk=wet_cluster).size == sum(1 for pk in after if after[pk] == wet_cluster)


def test_questions_and_praise_are_not_clustered() -> None:
    question = complaint_case("営業時間を教えてください。", kind="question")
    praise = complaint_case("丁寧な梱包でした。ありがとうございました。", kind="praise")
    assert services.assign_cases([question.pk, praise.pk]) == 0
    assert not Member.objects.exists()


def test_a_reading_leaves_work_to_place_its_case_and_the_sweep_finds_what_was_missed() -> None:
    case = complaint_case("置き配で雨に濡れていました。", carrier="japanpost")
    work = PendingWork.objects.filter(key=services.ASSIGN_WORK)
    assert work.count() == 1 and str(case.pk) in str(work.get().items)
    work.delete()  # the task was lost: the periodic job's sweep still places the case
    assert services.catch_up() == 1
    assert Member.objects.get(case=case).carrier == "japanpost"
    assert Progress.objects.get(name="readings").cursor == case.interactions.get().pk
    assert services.catch_up() == 0


def test_a_case_merged_into_another_leaves_its_cluster_and_comes_back_when_undone() -> None:
    from madoguchi.cases.services import do_merge_cases, do_undo_merge
    from madoguchi.customers.models import Customer

    customer = Customer.objects.create(name="鈴木 花子")
    target = complaint_case("置き配で雨に濡れていました。", carrier="yamato", customer=customer)
    source = complaint_case("置き配で荷物が雨に濡れていました。", carrier="yamato", customer=customer)
    services.assign_cases([target.pk, source.pk])
    cluster = Member.objects.get(case=target).cluster
    assert Member.objects.get(case=source).cluster == cluster and cluster.size == 2
    record = do_merge_cases(source, target, actor=None)
    assert not Member.objects.filter(case=source).exists()
    cluster.refresh_from_db()
    assert cluster.size == 1
    PendingWork.objects.all().delete()
    do_undo_merge(record, actor=None)
    assert PendingWork.objects.filter(key=services.ASSIGN_WORK).count() == 1
    assert services.assign_cases([source.pk]) == 1
    assert Member.objects.get(case=source).cluster == cluster
