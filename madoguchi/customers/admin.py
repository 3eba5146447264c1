from django.contrib import admin

from madoguchi.customers.models import Customer, Identity


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "kana", "created_at")
    search_fields = ("name", "kana", "identities__value")
    inlines = [IdentityInline]
    raw_id_fields = ("merged_into",)
