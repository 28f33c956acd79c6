"""Admin for boroughs and officer assignments; every change is kept in history."""

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group, User
from django.db import models
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from audit.history import audit_as
from boroughs.models import Borough, OfficerAssignment
from boroughs.roles import Role
from boroughs.services import REASON_MAX_LENGTH, borough_configuration_errors, borough_configure
from boroughs.users import holds_power


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
        super().clean()
        cleaned = self.cleaned_data  # what clean() returns, typed as a dict
        if "role" not in cleaned:
            return cleaned  # the role field has already said what is wrong
        errors = borough_configuration_errors(
            role=cleaned["role"],
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
            by=cast(User, request.user),  # the admin site lets only signed-in staff in
            change_reason=form.cleaned_data["change_reason"],
        )


# Plain labelled selects rather than autocomplete or tabular rows: there are only 33
# boroughs, and the autocomplete and tabular widgets leave inputs without accessible names.


@admin.register(OfficerAssignment)
class OfficerAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ("officer", "borough")
    list_filter = ("borough",)
    search_fields = ("officer__username", "borough__name")


class OfficerAssignmentInline(admin.StackedInline):
    model = OfficerAssignment
    fk_name = "officer"
    extra = 0
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


@admin.register(User)
class ServiceUserAdmin(SimpleHistoryAdmin, UserAdmin):
    """Users with their roles (groups) and, for officers, their boroughs.

    Roles are ticked as checkboxes, and permissions come only from roles: Django's two-list
    selector names its search icons in a way screen readers cannot use, and permissions
    granted one by one would escape the roles in boroughs/roles.py.

    Separation of duties: nobody changes their own roles or status; only superusers make
    admins or staff, or change an admin's account (password included); superuser status is
    given only from the command line (createsuperuser); every change asks why and is kept in
    the user's history.
    """

    form = ServiceUserChangeForm
    add_form = ServiceUserCreationForm
    inlines = (OfficerAssignmentInline,)
    list_filter = ("groups", "is_active", "is_staff")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Roles", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
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

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        if db_field.name == "groups":
            kwargs["widget"] = forms.CheckboxSelectMultiple
            kwargs.setdefault("help_text", "What this person can do in the service.")
            if not request.user.is_superuser:
                # Only superusers make admins; others grant the working roles.
                kwargs["queryset"] = Group.objects.filter(name__in=Role.values).exclude(
                    name=Role.ADMIN
                )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser or obj.pk == request.user.pk:
            return True
        return not holds_power(obj)

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        # Read by django-simple-history for the user's record and its group changes.
        audit_as(obj, reason=form.cleaned_data["change_reason"])
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        # Borough assignments made on this page share the reason, in their own history.
        for inline in formset.forms:
            audit_as(inline.instance, reason=form.cleaned_data["change_reason"])
        super().save_formset(request, form, formset, change)
