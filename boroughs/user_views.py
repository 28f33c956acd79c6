"""Admins' pages about people who sign in: list, invite, change, deactivate and reactivate.

Views stay thin: they check the person may act, call one selector or service, and render or
redirect. The set-password pages an invitation links to are at the end.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.contrib.auth.models import User
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import TemplateView

from boroughs import user_selectors, users
from boroughs.models import Borough
from boroughs.roles import Role
from boroughs.selectors import boroughs_all
from boroughs.user_forms import (
    ChoosePasswordForm,
    InviteForm,
    PeopleFilterForm,
    ReasonForm,
    UserChangeForm,
)
from boroughs.user_selectors import Person
from config.typing import AuthenticatedHttpRequest
from diversion.forms import add_service_errors

VIEW = "auth.view_user"
INVITE = "auth.add_user"
CHANGE = "auth.change_user"
SERVICE_FIELDS = {"username": "email", "reason": "reason", "boroughs": "boroughs"}


def _person(user_pk: int) -> Person:
    person = user_selectors.person_by_pk(pk=user_pk)
    if person is None:
        raise Http404("No one has that account number")
    return person


def _site_url(request: AuthenticatedHttpRequest) -> str:
    return request.build_absolute_uri("/")


def _sent_message(request: AuthenticatedHttpRequest, invitation: users.Invitation, done: str):
    """Say the invitation went only when the mail server took it; otherwise say what to do."""
    address = invitation.user.email
    if invitation.sent:
        messages.success(request, f"{done} The invitation was emailed to {address}.")
    else:
        messages.warning(
            request,
            f"{done} The invitation email to {address} could not be sent. "
            "Try sending it again later.",
        )


@require_http_methods(["GET"])
@permission_required(VIEW, raise_exception=True)
def user_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List the people who can sign in, with role, boroughs, status and last sign-in."""
    form = PeopleFilterForm(request.GET or None)
    filters = form.filters()
    page, people = user_selectors.people_page(**filters)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "people": people, "query": query.urlencode()}
    return render(request, "users/user_list.html", context)


def _borough_choices() -> list[Borough]:
    return list(boroughs_all())


@require_http_methods(["GET", "POST"])
@permission_required(INVITE, raise_exception=True)
def user_invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Invite someone with a role (and boroughs for an officer); email them a link."""
    form = InviteForm(
        request.POST or None,
        boroughs=_borough_choices(),
        allow_admin=request.user.is_superuser,
    )
    if form.is_bound and form.is_valid():
        try:
            invitation = users.user_invite(
                by=request.user, site_url=_site_url(request), request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error, SERVICE_FIELDS)
        else:
            _sent_message(
                request, invitation, f"{users.display_name(invitation.user)} has been invited."
            )
            return redirect("users:detail", user_pk=invitation.user.pk)
    return render(request, "users/user_invite.html", {"form": form})


@require_http_methods(["GET"])
@permission_required(VIEW, raise_exception=True)
def user_detail(request: AuthenticatedHttpRequest, user_pk: int) -> HttpResponse:
    """Show one person's account, what an admin can do with it, and its audit trail."""
    person = _person(user_pk)
    context = {
        "person": person,
        "refusal": users.account_change_refusal(by=request.user, user=person.user),
        "invitation_pending": users.invitation_pending(person.user),
        "events": user_selectors.account_events(user=person.user),
    }
    return render(request, "users/user_detail.html", context)


def _refused(request: AuthenticatedHttpRequest, user: User, role: str | None = None) -> bool:
    """Send the person back with the rule's words when they may not change this account."""
    refusal = users.account_change_refusal(by=request.user, user=user, role=role)
    if refusal:
        messages.error(request, refusal)
    return bool(refusal)


@require_http_methods(["GET", "POST"])
@permission_required(CHANGE, raise_exception=True)
def user_change(request: AuthenticatedHttpRequest, user_pk: int) -> HttpResponse:
    """Change someone's role and boroughs, with a reason."""
    person = _person(user_pk)
    if _refused(request, person.user):
        return redirect("users:detail", user_pk=user_pk)
    groups = list(person.user.groups.all())  # prefetched: role groups only
    initial = {
        "role": groups[0].name if len(groups) == 1 else None,
        "boroughs": [a.borough.gss_code for a in person.user.assignments.all()],
    }
    form = UserChangeForm(
        request.POST or None,
        initial=initial,
        boroughs=_borough_choices(),
        allow_admin=request.user.is_superuser,
    )
    if form.is_bound and form.is_valid():
        try:
            users.user_change(
                by=request.user, user=person.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error, SERVICE_FIELDS)
        else:
            messages.success(request, f"{person.name}: changes saved")
            return redirect("users:detail", user_pk=user_pk)
    return render(request, "users/user_change.html", {"person": person, "form": form})


def _set_active(request: AuthenticatedHttpRequest, user_pk: int, *, active: bool) -> HttpResponse:
    person = _person(user_pk)
    if _refused(request, person.user) or person.user.is_active == active:
        return redirect("users:detail", user_pk=user_pk)
    button = "Reactivate account" if active else "Deactivate account"
    form: Form = ReasonForm(request.POST or None, button=button, warning=not active)
    if form.is_bound and form.is_valid():
        service = users.user_reactivate if active else users.user_deactivate
        try:
            service(by=request.user, user=person.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, SERVICE_FIELDS)
        else:
            done = "reactivated" if active else "deactivated"
            messages.success(request, f"{person.name}'s account has been {done}")
            return redirect("users:detail", user_pk=user_pk)
    context = {"person": person, "form": form, "active": active}
    return render(request, "users/user_set_active.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(CHANGE, raise_exception=True)
def user_deactivate(request: AuthenticatedHttpRequest, user_pk: int) -> HttpResponse:
    """Ask why, then stop someone signing in."""
    return _set_active(request, user_pk, active=False)


@require_http_methods(["GET", "POST"])
@permission_required(CHANGE, raise_exception=True)
def user_reactivate(request: AuthenticatedHttpRequest, user_pk: int) -> HttpResponse:
    """Ask why, then let a deactivated person sign in again."""
    return _set_active(request, user_pk, active=True)


@require_POST
@permission_required(INVITE, raise_exception=True)
def user_invitation_resend(request: AuthenticatedHttpRequest, user_pk: int) -> HttpResponse:
    """Send someone who has not set a password yet a new invitation."""
    person = _person(user_pk)
    try:
        invitation = users.user_invitation_resend(
            by=request.user, user=person.user, site_url=_site_url(request), request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _sent_message(request, invitation, "A new invitation has been made.")
    return redirect("users:detail", user_pk=user_pk)


# --- Setting a password from an invitation ---------------------------------------------------


@method_decorator(login_not_required, name="dispatch")
class SetPasswordView(PasswordResetConfirmView):
    """Let an invited person choose a password with the one-time link from their email.

    Django's reset view does the careful part: the token moves from the address into the
    session before the form is shown, so it never leaks in a Referer header. The password is
    set through ``user_password_set``, which audits it; a deactivated account's link fails.
    """

    template_name = "registration/set_password.html"
    token_generator = users.invitation_tokens
    # (B105: the word that replaces the token in the address, not a password.)
    reset_url_token = "set-password"  # nosec B105
    success_url = reverse_lazy("set_password_done")
    form_class = ChoosePasswordForm

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form) -> HttpResponse:
        users.user_password_set(
            user=form.user, password=form.cleaned_data["new_password1"], request=self.request
        )
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["invitation_days"] = settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)
        user = getattr(self, "user", None)
        if user is not None and context.get("validlink"):
            context["second_factor"] = bool(
                user.is_staff
                or user.is_superuser
                or user.groups.filter(name__in=[Role.ADMIN, Role.APPROVER]).exists()
            )
        return context


@method_decorator(login_not_required, name="dispatch")
class SetPasswordDoneView(TemplateView):
    """Say the password is set, and send the person to sign in."""

    template_name = "registration/set_password_done.html"
