"""The shop's pages in the desk (staff): the order lookup of a case and of the phone intake,
linking an order to a case, a customer's orders, the delivery watch; and the admins' carrier
settings. Thin: the rules are in desk.py, delivery.py and the forms."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts import audit
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.models import SettingsSource
from madoguchi.accounts.views import admin_required
from madoguchi.cases.models import Case
from madoguchi.cases.services import CaseError
from madoguchi.customers.models import Customer
from madoguchi.shop import delivery, desk
from madoguchi.shop.forms import CarrierSiteForm, DeliveryDaysForm, OrderLinkForm, OrderLookupForm
from madoguchi.shop.models import CarrierSite, CaseShop, DeliveryDays, Order
from madoguchi.shop.tracking import BUILT_IN, carrier_label


def _case(pk: int) -> Case:
    return get_object_or_404(Case.objects.select_related("customer", "order"), pk=pk)


@login_required
def case_orders(request: HttpRequest, pk: int) -> HttpResponse:
    """注文を探す: the case customer's orders first; other customers' apart, with a warning."""
    case = _case(pk)
    form = OrderLookupForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = desk.lookup(query, case.customer)
    rows = desk.order_rows([*found.mine, *found.others])
    return render(request, "shop/case_orders.html", {
        "case": case, "form": form, "mine": rows[:len(found.mine)], "others": rows[len(found.mine):],
    }, status=400 if form.errors else 200)


@login_required
def case_link(request: HttpRequest, pk: int, order_pk: int) -> HttpResponse:
    """Link one order to the case, with its lines, the misread passage and how it was read."""
    case = _case(pk)
    order = get_object_or_404(Order.objects.select_related("customer"), pk=order_pk)
    other = order.customer_id != case.customer_id
    form = OrderLinkForm(request.POST or None, order=order, other_customer=other, initial=_as_linked(case, order))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            desk.do_link_order(case, actor=staff_user(request), order=order, items=list(data["items"]),
                               passage=data["passage"], understood_as=data["understood_as"],
                               other_customer_confirmed=bool(data.get("confirm_other")))
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("注文 %(number)s を案件にリンクしました。") % {"number": order.number})
            return redirect("cases:detail", pk=case.pk)
    return render(request, "shop/case_link.html", {
        "case": case, "order": order, "form": form, "other_customer": other,
        "tracking": desk.order_rows([order])[0].tracking,
    }, status=400 if form.errors else 200)


def _as_linked(case: Case, order: Order) -> dict[str, Any]:
    """The link form as the case is now, when it already points at this order."""
    if case.order_id != order.pk:
        return {}
    link = CaseShop.objects.filter(case=case).first()
    if link is None:
        return {"passage": case.passage_id}
    return {"items": list(link.items.values_list("pk", flat=True)), "passage": case.passage_id,
            "understood_as": link.understood_as}


@login_required
@require_POST
def case_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(pk)
    if case.order_id is None:
        messages.info(request, _("この案件に注文はリンクされていません。"))
        return redirect("cases:detail", pk=pk)
    number = case.order.number if case.order else ""
    desk.do_unlink_order(case, actor=staff_user(request))
    messages.success(request, _("注文 %(number)s のリンクを解除しました。") % {"number": number})
    return redirect("cases:detail", pk=pk)


@login_required
def find_orders(request: HttpRequest) -> HttpResponse:
    """The phone intake's lookup: any customer's orders; one starts a new case prefilled."""
    form = OrderLookupForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    orders = desk.order_rows(desk.find_orders(query))
    return render(request, "shop/find_orders.html", {"form": form, "orders": orders, "query": query},
                  status=400 if form.errors else 200)


CUSTOMER_PAGE = 50


@login_required
def customer_orders(request: HttpRequest, pk: int) -> HttpResponse:
    """Every order of a customer, 50 a page, each with its lines and cases."""
    customer = get_object_or_404(Customer, pk=pk)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    rows = list(customer.orders.order_by("-ordered_at", "-id")[(page - 1) * CUSTOMER_PAGE:page * CUSTOMER_PAGE + 1])
    return render(request, "shop/customer_orders.html", {
        "customer": customer, "orders": desk.order_views(rows[:CUSTOMER_PAGE]), "page": page,
        "has_next": len(rows) > CUSTOMER_PAGE,
    })


@login_required
def delivery_watch(request: HttpRequest) -> HttpResponse:
    parcels = delivery.late_parcels()
    return render(request, "shop/delivery_watch.html", {
        "parcels": parcels, "limit": delivery.WATCH_LIMIT, "has_rules": DeliveryDays.objects.exists(),
    })


@login_required
@require_POST
def delivery_contact(request: HttpRequest, order_pk: int) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("customer"), pk=order_pk)
    try:
        case = delivery.do_open_delivery_case(order, actor=staff_user(request))
    except (CaseError, ValueError) as error:
        messages.error(request, str(error))
        return redirect("shop_desk:delivery_watch")
    return redirect(reverse("cases:detail", args=[case.pk]) + "#reply")


# --- the admins' carrier settings ----------------------------------------------------------


def _carriers_page(request: HttpRequest, site_form: Any = None, days_form: Any = None, status: int = 200) -> HttpResponse:
    sites = list(CarrierSite.objects.order_by("name"))
    by_code = {site.code: site for site in sites}
    return render(request, "shop/carriers.html", {
        "built_in": [(carrier_label(code), pattern) for code, pattern in BUILT_IN.items()],
        "sites": sites,
        "days": [(row, carrier_label(row.carrier, by_code)) for row in DeliveryDays.objects.order_by("carrier", "region")],
        "site_form": site_form or CarrierSiteForm(prefix="site"),
        "days_form": days_form or DeliveryDaysForm(prefix="days"),
    }, status=status)


@admin_required
def carriers(request: HttpRequest) -> HttpResponse:
    return _carriers_page(request)


@admin_required
@require_POST
def carrier_add(request: HttpRequest) -> HttpResponse:
    form = CarrierSiteForm(request.POST, prefix="site")
    if not form.is_valid():
        return _carriers_page(request, site_form=form, status=400)
    with transaction.atomic():
        site = form.save()
        audit.record_saved(request.user, site, None, source=SettingsSource.SETTINGS)
    messages.success(request, _("配送業者「%(name)s」を追加しました。") % {"name": site.name})
    return redirect("shop:carriers")


@admin_required
@require_POST
def carrier_delete(request: HttpRequest, pk: int) -> HttpResponse:
    site = get_object_or_404(CarrierSite, pk=pk)
    with transaction.atomic():
        before = audit.snapshot(site)
        DeliveryDays.objects.filter(carrier=site.code).delete()
        site.delete()
        audit.record_deleted(request.user, site, before, pk, source=SettingsSource.SETTINGS)
    messages.success(request, _("配送業者「%(name)s」を削除しました。") % {"name": site.name})
    return redirect("shop:carriers")


@admin_required
@require_POST
def days_save(request: HttpRequest) -> HttpResponse:
    form = DeliveryDaysForm(request.POST, prefix="days")
    if not form.is_valid():
        return _carriers_page(request, days_form=form, status=400)
    data = form.cleaned_data
    with transaction.atomic():
        row = DeliveryDays.objects.filter(carrier=data["carrier"], region=data["region"]).first()
        before = audit.snapshot(row) if row else None
        row = row or DeliveryDays(carrier=data["carrier"], region=data["region"])
        row.days = data["days"]
        row.save()
        audit.record_saved(request.user, row, before, source=SettingsSource.SETTINGS)
    messages.success(request, _("通常の配送日数を保存しました。"))
    return redirect("shop:carriers")


@admin_required
@require_POST
def days_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(DeliveryDays, pk=pk)
    with transaction.atomic():
        before = audit.snapshot(row)
        row.delete()
        audit.record_deleted(request.user, row, before, pk, source=SettingsSource.SETTINGS)
    messages.success(request, _("通常の配送日数を削除しました。"))
    return redirect("shop:carriers")

