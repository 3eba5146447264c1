from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.customers.forms import IdentityForm
from madoguchi.customers.models import Customer, Identity, PossibleMatch
from madoguchi.customers.services import (
    CustomerError,
    MatchError,
    MergeError,
    do_add_identity,
    do_confirm_customer_name,
    do_confirm_same_person,
    do_dismiss_same_person,
    do_merge_customers,
)
from madoguchi.ids import parse_id


@login_required
def customer_detail(request: HttpRequest, pk: int, identity_form: IdentityForm | None = None,
                    status: int = 200) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    if customer.merged_into_id:
        return redirect("customers:detail", pk=customer.merged_into_id)
    return render(request, "customers/detail.html", status=status, context={
        "identity_form": identity_form or IdentityForm(),
        "customer": customer,
        "identities": customer.identities.all(),
        "orders": customer.orders.order_by("-ordered_at")[:50],
        "cases": customer.cases.select_related("category", "assignee").order_by("-received_at")[:100],
        "merges": customer.merges_in.select_related("merged_by").order_by("-merged_at")[:50],
    })


@login_required
@require_POST
def customer_merge(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(Customer, pk=pk)
    source_id = parse_id(request.POST.get("source"))
    if source_id is None:
        messages.error(request, _("統合するお客様の番号を数字で入力してください。"))
        return redirect("customers:detail", pk=pk)
    if target.merged_into_id is not None:
        messages.error(request, _("このお客様はすでに別のお客様に統合されています。統合先のページで操作してください。"))
        return redirect("customers:detail", pk=pk)
    source = Customer.objects.filter(pk=source_id, merged_into__isnull=True).first()
    if source is None or source.pk == target.pk:
        messages.error(request, _("統合できるお客様が見つかりません。"))
        return redirect("customers:detail", pk=pk)
    try:
        do_merge_customers(source=source, target=target, user=staff_user(request), note=request.POST.get("note", ""))
    except MergeError as error:
        messages.error(request, str(error))
        return redirect("customers:detail", pk=pk)
    messages.success(request, _("お客様 %(source)s を統合しました。履歴はすべてこちらに移りました。") % {"source": source.name})
    return redirect("customers:detail", pk=pk)


def _back(request: HttpRequest, customer_id: int) -> HttpResponse:
    """To the case page the button was on, else to the customer."""
    from madoguchi.cases.models import Case

    case_id = parse_id(request.POST.get("case"))
    if case_id is not None and Case.objects.filter(pk=case_id).exists():
        return redirect("cases:detail", pk=case_id)
    return redirect("customers:detail", pk=customer_id)


@login_required
@require_POST
def confirm_same_person(request: HttpRequest, pk: int) -> HttpResponse:
    """A visitor's typed address belongs to an existing customer and staff verified it is them:
    merge (the same rule as the merge form above: any staff member, with how they verified it,
    kept as a CustomerMerge and in each moved case's history)."""
    match = get_object_or_404(PossibleMatch.objects.select_related("customer", "existing"), pk=pk)
    try:
        target = do_confirm_same_person(match.pk, user=staff_user(request), note=request.POST.get("note", ""))
    except MatchError as error:
        messages.error(request, str(error))
        return _back(request, match.customer_id)
    messages.success(request, _("ご本人と確認し、%(target)s 様の記録に統合しました。") % {"target": target.name})
    return _back(request, target.pk)


@login_required
@require_POST
def dismiss_same_person(request: HttpRequest, pk: int) -> HttpResponse:
    match = get_object_or_404(PossibleMatch, pk=pk)
    try:
        do_dismiss_same_person(match.pk, user=staff_user(request), note=request.POST.get("note", ""))
    except MatchError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("別の方として扱います。統合せず、入力されたアドレスにはメールを送りません。"))
    return _back(request, match.customer_id)


@login_required
@require_POST
def confirm_name(request: HttpRequest, pk: int) -> HttpResponse:
    """A staff member checked the customer's name: the desk's automatic mails then use it."""
    customer = get_object_or_404(Customer, pk=pk, merged_into__isnull=True)
    try:
        do_confirm_customer_name(customer, user=staff_user(request), name=request.POST.get("name", ""))
    except CustomerError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("お名前を確認済みにしました。自動で送るメールでもこのお名前でお呼びします。"))
    return redirect("customers:detail", pk=pk)


@login_required
@require_POST
def add_identity(request: HttpRequest, pk: int) -> HttpResponse:
    """Any staff member adds a contact of any kind; one another customer holds waits for a
    check (「同じ方かもしれない」), as an address typed on a public page does."""
    customer = get_object_or_404(Customer, pk=pk)
    form = IdentityForm(request.POST)
    if not form.is_valid():
        return customer_detail(request, pk, identity_form=form, status=400)
    try:
        added = do_add_identity(customer, user=staff_user(request), kind=form.cleaned_data["kind"],
                                value=form.cleaned_data["value"])
    except CustomerError as error:
        form.add_error("value", str(error))
        return customer_detail(request, pk, identity_form=form, status=400)
    if isinstance(added, Identity):
        messages.success(request, _("連絡先を追加しました: %(identity)s") % {"identity": added})
    else:
        messages.warning(request, _("この連絡先は既存のお客様『%(name)s』のものです。ご本人と確認できるまで統合せず、確認待ちとして記録しました。")
                         % {"name": added.existing.name})
    return redirect("customers:detail", pk=pk)
