from django.contrib import admin

from madoguchi.customers.models import Customer, Identity, PossibleMatch


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "kana", "created_at")
    search_fields = ("name", "kana", "identities__value")
    inlines = [IdentityInline]
    raw_id_fields = ("merged_into",)


@admin.register(PossibleMatch)
class PossibleMatchAdmin(admin.ModelAdmin):
    list_display = ("customer", "existing", "value", "channel", "state", "created_at", "decided_by", "decided_at")
    list_filter = ("state", "channel")
    search_fields = ("value", "customer__name", "existing__name")
    raw_id_fields = ("customer", "existing", "decided_by")
