from django.contrib import admin

from madoguchi.accounts.admin_audit import ReadOnlyAdmin
from madoguchi.base_shop.models import BaseAuthorisation


@admin.register(BaseAuthorisation)
class BaseAuthorisationAdmin(ReadOnlyAdmin):
    """When and by whom BASE was authorised; the tokens are never shown."""

    list_display = ("authorised_at", "authorised_by", "expires_at")
    fields = ("authorised_at", "authorised_by", "expires_at")
