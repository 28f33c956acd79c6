"""Officer pages: encounters, people, referrals and outcomes."""

from django.urls import path

from diversion import views

app_name = "diversion"

urlpatterns = [
    path("encounters/new/", views.encounter_find, name="encounter_find"),
    path("encounters/new/choose/", views.encounter_choose, name="encounter_choose"),
    path("encounters/new/person/", views.encounter_person_new, name="encounter_person_new"),
    path("encounters/new/details/", views.encounter_details, name="encounter_details"),
    path("encounters/search/", views.encounter_search, name="encounter_search"),
    path(
        "referrals/needing-action/",
        views.referrals_needing_action,
        name="referrals_needing_action",
    ),
    path("encounters/<str:encounter_ref>/", views.encounter_detail, name="encounter_detail"),
    path("encounters/<str:encounter_ref>/answer/", views.encounter_answer, name="encounter_answer"),
    path(
        "encounters/<str:encounter_ref>/referral/",
        views.referral_arrange,
        name="referral_arrange",
    ),
    path(
        "encounters/<str:encounter_ref>/outcome/",
        views.referral_outcome,
        name="referral_outcome",
    ),
    path("people/<str:person_ref>/", views.person_detail, name="person_detail"),
    path(
        "people/<str:person_ref>/further-offences/",
        views.reoffence_new,
        name="reoffence_new",
    ),
]
