"""The coupon panel of the case page (loaded by htmx after the page) and issuing a coupon."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.cases.models import Case, CompensationState
from madoguchi.coupons import services
from madoguchi.coupons.forms import CouponForm
from madoguchi.coupons.models import Coupon


def _panel(request: HttpRequest, case: Case, form: CouponForm, status: int = 200, template: str = "coupons/_case_panel.html") -> HttpResponse:
    return render(request, template, {"case": case, "coupons": services.coupons_of_case(case.pk), "form": form},
                  status=status)


@login_required
def case_panel(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.only("pk", "customer_id"), pk=pk)
    return _panel(request, case, CouponForm.blank())


@login_required
@require_POST
def issue(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=pk)
    form = CouponForm(request.POST, prefix="cpn")
    if form.is_valid():
        data = form.cleaned_data
        try:
            coupon = services.do_issue_coupon(
                case, actor=staff_user(request), kind=data["kind"], value=data["value"], expires_on=data["expires_on"],
                reason=data["reason"], code=data["code"], ledger_yen=data["ledger_yen"])
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            if coupon.compensation.state == CompensationState.PENDING:
                messages.warning(request, _("%(reason)sクーポン %(code)s はチームリーダーの承認を待っています。承認されるまで発行されません。")
                                 % {"reason": coupon.compensation.hold_reason, "code": coupon.code})
            else:
                messages.success(request, _("クーポン %(code)s を発行し、補償として記録しました。") % {"code": coupon.code})
            target = reverse("cases:detail", args=[pk])
            if request.htmx:  # type: ignore[attr-defined]
                # The page again, with the message (not "#coupons": a new hash alone reloads nothing).
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return redirect(target + "#coupons")
    if request.htmx:  # type: ignore[attr-defined]
        return _panel(request, case, form)  # htmx swaps 2xx answers only: the errors in place
    return _panel(request, case, form, status=400, template="coupons/issue.html")


@login_required
@require_POST
def retry_platform(request: HttpRequest, pk: int) -> HttpResponse:
    """「もう一度作成する」: a coupon the shop platform refused is sent to it again (staff only)."""
    coupon = get_object_or_404(Coupon.objects.select_related("compensation"), pk=pk)
    try:
        services.do_retry_platform(coupon.pk, actor=staff_user(request))
    except services.CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("クーポン %(code)s をショップにもう一度作成します。数分以内に反映されます。") % {"code": coupon.code})
    return redirect(reverse("cases:detail", args=[coupon.compensation.case_id]) + "#coupons")
