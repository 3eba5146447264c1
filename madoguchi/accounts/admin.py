from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from madoguchi.accounts.admin_audit import AuditedAdmin, ReadOnlyAdmin
from madoguchi.accounts.models import (
    AccessEvent,
    AuthorityLimit,
    SecurityPolicy,
    SettingsChange,
    Team,
    User,
)


@admin.register(User)
class MadoguchiUserAdmin(AuditedAdmin, UserAdmin):
    list_display = ("username", "display_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("窓口", {"fields": ("display_name", "role", "team")}))  # type: ignore[misc]
    add_fieldsets = (*UserAdmin.add_fieldsets, ("窓口", {"fields": ("display_name", "role", "team")}))


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "lead")


@admin.register(AuthorityLimit)
class AuthorityLimitAdmin(AuditedAdmin):
    list_display = ("role", "max_compensation_yen")


# Django's own registration of groups, made audited like every other setting.
admin.site.unregister(Group)


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdmin, GroupAdmin):
    pass


@admin.register(SettingsChange)
class SettingsChangeAdmin(ReadOnlyAdmin):
    """The settings audit is itself never written by hand."""

    list_display = ("at", "actor_name", "source", "action", "target", "object_repr")
    list_filter = ("source", "action", "target")
    show_full_result_count = False


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    """The access log (accounts/access_log.py): a record, never written by hand."""

    list_display = ("at", "kind", "username", "actor", "address", "detail")
    list_filter = ("kind",)
    show_full_result_count = False


@admin.register(SecurityPolicy)
class SecurityPolicyAdmin(AuditedAdmin):
    list_display = ("admins_need_two_factor",)


admin.site.site_header = "窓口 Madoguchi 管理画面"
