
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from madoguchi.accounts.admin_audit import AuditedAdmin, ReadOnlyAdmin
from madoguchi.shop.models import (
    CarrierSite,
    CaseShop,
    DeliveryDays,
    ImportRun,
    Order,
    OrderItem,
    Passage,
    Product,
)


class PassageInline(admin.TabularInline):
    model = Passage
    extra = 0


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    raw_id_fields = ("product",)


@admin.register(Product)
class ProductAdmin(AuditedAdmin):
    list_display = ("sku", "name")
    search_fields = ("sku", "name")
    inlines = [PassageInline]


@admin.register(Order)
class OrderAdmin(AuditedAdmin):
    list_display = ("number", "customer", "ordered_at", "status", "carrier", "tracking_number", "amount_yen", "source")
    list_filter = ("status", "source")
    search_fields = ("number", "tracking_number", "external_id")
    raw_id_fields = ("customer",)
    inlines = [OrderItemInline]

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "carrier":  # the built-in carriers and those the admin added
            from madoguchi.shop.forms import carrier_choices

            return forms.ChoiceField(label=db_field.verbose_name, required=False,
                                     choices=[("", "---------"), *carrier_choices(), *[c for c in db_field.choices or [] if c[0] == "other"]])
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(CarrierSite)
class CarrierSiteAdmin(AuditedAdmin):
    list_display = ("code", "name", "url_pattern")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(DeliveryDays)
class DeliveryDaysAdmin(AuditedAdmin):
    list_display = ("carrier", "region", "days")


@admin.register(CaseShop)
class CaseShopAdmin(ReadOnlyAdmin):
    """What a case says of its order (written by the desk's do_* functions, audited on the case)."""

    list_display = ("case", "auto_linked_order", "auto_linked_at")
    raw_id_fields = ("case",)


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    """The record of each order import: read only (it is what happened)."""

    list_display = ("created_at", "user", "file_name", "file_format", "state", "created", "updated", "unchanged", "skipped")
    list_filter = ("state", "file_format")
