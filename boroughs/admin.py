"""Admin for boroughs and officer assignments; every change is kept in history."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from boroughs.models import Borough, OfficerAssignment
from boroughs.services import REASON_MAX_LENGTH, borough_configuration_errors, borough_configure


class BoroughAdminForm(forms.ModelForm):
    """The borough's role and dates, checked by the service's rule, with a required reason."""

    change_reason = forms.CharField(
        label="Reason for the change",
        max_length=REASON_MAX_LENGTH,
        help_text="Shown in the borough's history next to the change.",
        error_messages={"required": "Enter the reason for the change"},
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = Borough
        fields = ("role", "pilot_start", "pilot_end")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        errors = borough_configuration_errors(
            role=cleaned.get("role", ""),
            pilot_start=cleaned.get("pilot_start"),
            pilot_end=cleaned.get("pilot_end"),
        )
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(Borough)
class BoroughAdmin(SimpleHistoryAdmin):
    """The 33 boroughs ship with the service: admins change their role, never add or delete.

    Changes go through ``borough_configure``, the service ``set_borough`` and the borough
    pages use, so every route refuses the same things and keeps who and why in the history.
    """

    form = BoroughAdminForm
    list_display = ("name", "gss_code", "role", "pilot_start", "pilot_end")
    list_filter = ("role",)
    search_fields = ("name", "gss_code")
    readonly_fields = ("gss_code", "name")
    fields = ("name", "gss_code", "role", "pilot_start", "pilot_end", "change_reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Borough, form, change: bool) -> None:
        borough_configure(
            gss_code=obj.gss_code,
            role=obj.role,
            pilot_start=obj.pilot_start,
            pilot_end=obj.pilot_end,
            changed_by=request.user,
            change_reason=form.cleaned_data["change_reason"],
        )


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
