"""Issue 19 item 4 (first part): a LINE-only or X-only customer can be logged on /cases/new/,
found again by that identity, and an identity another customer holds is linked unconfirmed."""

from __future__ import annotations

import pytest

from madoguchi.cases.models import Case
from madoguchi.cases.tests.test_bad_input import agent_client, new_case_data  # noqa: F401 - fixture
from madoguchi.customers.models import PossibleMatch
from madoguchi.testing.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db
LINE_ID = "U4af4980629f6f0a8b0f8e5a9e1a2b3c4"


def test_a_line_only_customer_is_logged_and_found_again(agent_client):  # noqa: F811
    response = agent_client.post("/cases/new/", new_case_data(phone="", email="", line_id=LINE_ID, channel="line"))
    assert response.status_code == 302, response.content.decode()
    customer = Case.objects.get().customer
    assert list(customer.identities.values_list("kind", "value")) == [("line", LINE_ID)]
    agent_client.post("/cases/new/", new_case_data(phone="", email="", line_id=LINE_ID, channel="line", subject="二件目"))
    assert Case.objects.filter(customer=customer).count() == 2


def test_an_x_only_customer_is_logged_without_the_at(agent_client):  # noqa: F811
    response = agent_client.post("/cases/new/", new_case_data(phone="", email="", x_handle="@Komorebi_Fan", channel="x"))
    assert response.status_code == 302
    assert list(Case.objects.get().customer.identities.values_list("kind", "value")) == [("x", "komorebi_fan")]


def test_without_any_contact_the_form_asks_for_one_of_four(agent_client):  # noqa: F811
    response = agent_client.post("/cases/new/", new_case_data(phone="", email=""))
    assert response.status_code == 400
    assert "LINEユーザーID" in response.content.decode() and not Case.objects.exists()


@pytest.mark.parametrize("value", ["山田花子", "U123", "u4af4980629f6f0a8b0f8e5a9e1a2b3c4"])
def test_a_line_display_name_instead_of_the_user_id_is_refused_in_japanese(agent_client, value):  # noqa: F811
    response = agent_client.post("/cases/new/", new_case_data(phone="", email="", line_id=value))
    assert response.status_code == 400
    assert "表示名ではありません" in response.content.decode()


def test_a_line_id_another_customer_holds_is_linked_for_staff_to_check(agent_client):  # noqa: F811
    holder = CustomerFactory(name="LINEの山田")
    IdentityFactory(customer=holder, kind="line", value=LINE_ID)
    agent_client.post("/cases/new/", new_case_data(phone="090-1234-0000", email="", line_id=LINE_ID))
    customer = Case.objects.get().customer
    assert customer.pk != holder.pk
    match = PossibleMatch.objects.get()
    assert (match.customer_id, match.existing_id, match.kind, match.value) == (customer.pk, holder.pk, "line", LINE_ID)
