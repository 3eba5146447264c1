from django.contrib import admin

from madoguchi.customers.models import Customer, CustomerMerge, Identity, PossibleMatch


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


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    """The record of merges is evidence: it can be read, not written by hand. (Deleting a
    customer, e.g. on an erasure request, still deletes their merge records.)"""

    list_display = ("source", "target", "merged_by", "merged_at", "note")
    search_fields = ("note", "source__name", "target__name")
    raw_id_fields = ("source", "target", "merged_by")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
