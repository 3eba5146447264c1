
from django.contrib import admin

from madoguchi.accounts.admin_audit import AuditedAdmin, ReadOnlyAdmin
from madoguchi.shop.models import ImportRun, Order, OrderItem, Passage, Product


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


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    """The record of each order import: read only (it is what happened)."""

    list_display = ("created_at", "user", "file_name", "file_format", "state", "created", "updated", "unchanged", "skipped")
    list_filter = ("state", "file_format")
