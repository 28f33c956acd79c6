"""The home page: each role lands on what it can do."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from boroughs.roles import Role
from boroughs.selectors import boroughs_for_officer, boroughs_taking_part, roles_for
from diversion.selectors import officer_home_context
from reports.selectors import reports_home_context


def home(request: HttpRequest) -> HttpResponse:
    """Show each of the signed-in person's roles with the tasks it allows."""
    roles = roles_for(user=request.user)
    context: dict = {"roles": roles}
    if Role.OFFICER in roles:
        context["officer_boroughs"] = list(boroughs_for_officer(user=request.user))
        context.update(officer_home_context(user=request.user))
    if Role.ANALYST in roles or Role.APPROVER in roles:
        context.update(reports_home_context(user=request.user, roles=roles))
    if Role.ADMIN in roles:
        context["boroughs_taking_part"] = list(boroughs_taking_part())
    return render(request, "home.html", context)
