"""Admin for boroughs and officer assignments; every change is kept in history."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from boroughs.models import Borough, OfficerAssignment


@admin.register(Borough)
class BoroughAdmin(SimpleHistoryAdmin):
    """The 33 boroughs ship with the service: admins change their role, never add or delete."""

    list_display = ("name", "gss_code", "role", "pilot_start", "pilot_end")
    list_filter = ("role",)
    search_fields = ("name", "gss_code")
    readonly_fields = ("gss_code", "name")
    fields = ("name", "gss_code", "role", "pilot_start", "pilot_end")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(OfficerAssignment)
class OfficerAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ("officer", "borough")
    list_filter = ("borough",)
    search_fields = ("officer__username", "borough__name")
    autocomplete_fields = ("borough",)


class OfficerAssignmentInline(admin.TabularInline):
    model = OfficerAssignment
    fk_name = "officer"
    extra = 0
    autocomplete_fields = ("borough",)
    verbose_name = "borough this person works in (officers)"
    verbose_name_plural = "boroughs this person works in (officers)"


admin.site.unregister(User)


@admin.register(User)
class ServiceUserAdmin(UserAdmin):
    """Users with their roles (groups) and, for officers, their boroughs."""

    inlines = (OfficerAssignmentInline,)
    list_filter = ("groups", "is_active", "is_staff")
