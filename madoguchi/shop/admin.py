from django.contrib import admin

from madoguchi.accounts.admin_audit import AuditedAdmin
from madoguchi.shop.models import Order, OrderItem, Passage, Product


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
    list_display = ("number", "customer", "ordered_at", "carrier", "tracking_number", "amount_yen")
    search_fields = ("number", "tracking_number")
    raw_id_fields = ("customer",)
    inlines = [OrderItemInline]
