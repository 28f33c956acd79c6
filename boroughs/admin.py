"""Admin for boroughs and officer assignments; every change is kept in history."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group, User
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from boroughs.models import Borough, OfficerAssignment
from boroughs.roles import Role


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
admin.site.unregister(Group)


@admin.register(Group)
class ServiceGroupAdmin(SimpleHistoryAdmin, GroupAdmin):
    """Roles (groups) with the history of their permissions."""


REASON_HELP = "Kept in the account's history with your name, for audit."


class _ReasonMixin(forms.Form):
    change_reason = forms.CharField(
        label="Why are you making this change?",
        help_text=REASON_HELP,
        max_length=100,
        error_messages={"required": "Enter why you are making this change"},
    )


class ServiceUserChangeForm(UserChangeForm, _ReasonMixin):
    """Django's user form, asking why the change is made."""


class ServiceUserCreationForm(UserCreationForm, _ReasonMixin):
    """Django's new-user form, asking why the account is made."""


def _holds_power(user: User) -> bool:
    """Return whether the account can change other accounts or the service's set-up."""
    return user.is_superuser or user.is_staff or user.groups.filter(name=Role.ADMIN).exists()


@admin.register(User)
class ServiceUserAdmin(SimpleHistoryAdmin, UserAdmin):
    """Users with their roles (groups) and, for officers, their boroughs.

    Separation of duties: nobody changes their own roles or status; only superusers make
    admins or staff, or change an admin's account (password included); superuser status is
    given only from the command line (createsuperuser); every change asks why and is kept in
    the user's history.
    """

    form = ServiceUserChangeForm
    add_form = ServiceUserCreationForm
    inlines = (OfficerAssignmentInline,)
    list_filter = ("groups", "is_active", "is_staff")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Reason for this change", {"fields": ("change_reason",)}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        ("Reason for this change", {"fields": ("change_reason",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        fields = {"is_superuser", "user_permissions", "last_login", "date_joined"}
        if not request.user.is_superuser:
            fields.add("is_staff")
        if obj is not None and obj.pk == request.user.pk:
            fields |= {"groups", "is_staff", "is_active"}
        return tuple(sorted(fields))

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            # Only superusers make admins; others grant the working roles.
            kwargs["queryset"] = Group.objects.filter(name__in=Role.values).exclude(name=Role.ADMIN)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser or obj.pk == request.user.pk:
            return True
        return not _holds_power(obj)

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        # Read by django-simple-history for the user's record and its group changes.
        obj._change_reason = form.cleaned_data["change_reason"]
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        # Borough assignments made on this page share the reason, in their own history.
        for inline in formset.forms:
            inline.instance._change_reason = form.cleaned_data["change_reason"]
        super().save_formset(request, form, formset, change)
