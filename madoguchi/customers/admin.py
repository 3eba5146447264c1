from django.contrib import admin

from madoguchi.accounts.admin_audit import AuditedAdmin, ReadOnlyAdmin
from madoguchi.customers.models import Customer, CustomerMerge, Identity, PossibleMatch


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(AuditedAdmin):
    """A customer's details may be corrected here; each correction goes to the settings audit."""

    list_display = ("name", "kana", "created_at")
    search_fields = ("name", "kana", "identities__value")
    inlines = [IdentityInline]
    raw_id_fields = ("merged_into",)


@admin.register(PossibleMatch)
class PossibleMatchAdmin(ReadOnlyAdmin):
    """Suggested matches and the decisions taken on them (decided on the desk)."""

    list_display = ("customer", "existing", "value", "channel", "state", "created_at", "decided_by", "decided_at")
    list_filter = ("state", "channel")
    search_fields = ("value", "customer__name", "existing__name")


@admin.register(CustomerMerge)
class CustomerMergeAdmin(ReadOnlyAdmin):
    """The record of merges is evidence: it can be read, not written or deleted by hand."""

    list_display = ("source", "target", "merged_by", "merged_at", "note")
    search_fields = ("note", "source__name", "target__name")
