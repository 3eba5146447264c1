"""An agent's correction of a case's category is a label; the shop's model learns from its
labels when retrained (by command, or by the periodic job when labels changed)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from madoguchi.cases.models import Case, Category, Channel
from madoguchi.cases.services import do_create_case, do_update_case
from madoguchi.testing.factories import CustomerFactory, UserFactory
from madoguchi.triage import services
from madoguchi.triage.models import CategoryLabel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open", "starter_model")]

# Gift wrapping and noshi paper: a category this shop added, which the starter set never saw.
GIFT_MESSAGES = [
    "お歳暮用にのし紙をお願いしたのに、のしが付いていませんでした。",
    "ギフト包装を指定したのに、包装されずに届きました。先方に失礼です。",
    "内祝いののし紙の名前が間違っていました。",
]
NEXT = "のし紙をお願いしていたのですが、付いていなかったです。お中元なので困ります。"


def customer_case(text: str) -> Case:
    return do_create_case(actor=None, customer=CustomerFactory(), subject=text[:20], channel=Channel.EMAIL,
                          category=Category.objects.get(code="other"), complaint=text)


def test_a_correction_changes_the_next_prediction_after_retraining(capsys) -> None:  # type: ignore[no-untyped-def]
    gift = Category.objects.create(code="gift", name="ギフト・のし", position=7)
    before = services.current_reader().read([NEXT])[0]
    assert before.category != "gift"
    agent = UserFactory()
    for text in GIFT_MESSAGES:
        case = customer_case(text)
        do_update_case(case, actor=agent, expected_version=case.version, changes={"category": gift})
    labels = CategoryLabel.objects.order_by("pk")
    assert [(label.text, label.category.code, label.labelled_by) for label in labels] == [
        (text, "gift", agent) for text in GIFT_MESSAGES
    ]
    assert services.retrain_if_stale().startswith("trained")
    assert services.current_reader().read([NEXT])[0].category == "gift"
    assert services.current_reader().shop_labels == 3
    assert services.current_reader().frame is not None  # the shop's model reads past the frame too
    assert services.retrain_if_stale() == "current"  # nothing new since
    call_command("train-classifier")
    assert "3 件のお店の正解" in capsys.readouterr().out


def test_a_change_by_the_reader_itself_is_no_label(django_capture_on_commit_callbacks, huey_immediate) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        case = customer_case("届いたマグカップが割れていました。交換してください。")
    case.refresh_from_db()
    assert case.category.code == "defect"
    assert not CategoryLabel.objects.exists()
