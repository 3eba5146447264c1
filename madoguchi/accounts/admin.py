from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from madoguchi.accounts.models import AuthorityLimit, Team, User


@admin.register(User)
class MadoguchiUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("窓口", {"fields": ("display_name", "role", "team")}))  # type: ignore[misc]
    add_fieldsets = (*UserAdmin.add_fieldsets, ("窓口", {"fields": ("display_name", "role", "team")}))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "lead")


admin.site.register(AuthorityLimit)
admin.site.site_header = "窓口 Madoguchi 管理画面"
