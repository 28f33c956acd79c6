"""Fixed vocabularies from SPEC §7, shared by models, forms, imports and exports."""

from django.db import models


class Gender(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"
    NOT_STATED = "not_stated", "Not stated"


class Ethnicity(models.TextChoices):
    """Police self-defined ethnicity codes (18+1), with W4 Roma from the ONS 2021 categories."""

    W1 = "W1", "White: British"
    W2 = "W2", "White: Irish"
    W3 = "W3", "White: Gypsy or Irish Traveller"
    W4 = "W4", "White: Roma"
    W9 = "W9", "White: any other White background"
    M1 = "M1", "Mixed: White and Black Caribbean"
    M2 = "M2", "Mixed: White and Black African"
    M3 = "M3", "Mixed: White and Asian"
    M9 = "M9", "Mixed: any other Mixed background"
    A1 = "A1", "Asian: Indian"
    A2 = "A2", "Asian: Pakistani"
    A3 = "A3", "Asian: Bangladeshi"
    A4 = "A4", "Asian: Chinese"
    A9 = "A9", "Asian: any other Asian background"
    B1 = "B1", "Black: Caribbean"
    B2 = "B2", "Black: African"
    B9 = "B9", "Black: any other Black background"
    O2 = "O2", "Other: Arab"
    O9 = "O9", "Other: any other ethnic group"
    NS = "NS", "Not stated"


# Ethnicity code -> the broad group used in disproportionality tables.
ETHNICITY_GROUPS: dict[str, str] = {
    **{code: "White" for code in ("W1", "W2", "W3", "W4", "W9")},
    **{code: "Mixed" for code in ("M1", "M2", "M3", "M9")},
    **{code: "Asian" for code in ("A1", "A2", "A3", "A4", "A9")},
    **{code: "Black" for code in ("B1", "B2", "B9")},
    **{code: "Other" for code in ("O2", "O9")},
    "NS": "Not stated",
}


# The evaluation's age bands (SPEC §7 export, disproportionality): (name, youngest, oldest).
AGE_BANDS: tuple[tuple[str, int, int], ...] = (("18-20", 18, 20), ("21-24", 21, 24))
OTHER_AGE_BAND = "other"


class Substance(models.TextChoices):
    CANNABIS_HERBAL = "cannabis_herbal", "Herbal cannabis"
    CANNABIS_RESIN = "cannabis_resin", "Cannabis resin"
    OTHER = "other", "Other substance"


class Decision(models.TextChoices):
    """An encounter's decision: the one list, used by the eligibility rule and the models."""

    INELIGIBLE = "ineligible", "Not eligible"
    DIVERTED = "diverted", "Diverted"
    DECLINED = "declined", "Offered diversion and declined"
    NOT_OFFERED = "not_offered", "Eligible, diversion not offered here"
    OFFERED = "offered", "Offered diversion, answer not yet recorded"


class OtherwiseDisposal(models.TextChoices):
    """What the person would otherwise have received: the evaluation's counterfactual."""

    CANNABIS_WARNING = "cannabis_warning", "Cannabis warning"
    PENALTY_NOTICE = "penalty_notice", "Penalty notice for disorder"
    ARREST_CHARGE = "arrest_charge", "Arrest and charge"
    NO_FURTHER_ACTION = "no_further_action", "No further action"


class EncounterSource(models.TextChoices):
    OFFICER = "officer", "Logged by an officer"
    IMPORT = "import", "Imported"
    DEMO = "demo", "Demo data"


class ReferralStatus(models.TextChoices):
    """A referral's status on a day, derived from its outcome dates."""

    REFERRED = "referred", "Referred"
    ATTENDED = "attended", "Attended"
    COMPLETED = "completed", "Completed"
    DID_NOT_ATTEND = "did_not_attend", "Did not attend"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ProviderKind(models.TextChoices):
    DRUG_EDUCATION = "drug_education", "Drug education"
    COUNSELLING = "counselling", "Counselling"


class Reason(models.TextChoices):
    """Why an encounter is not eligible, in SPEC §3's fixed reporting order.

    Exclusion factors add ``exclusion:<code>`` after these, in the order they were given.
    """

    AGE_UNDER_MIN = "age_under_min", "Under the minimum age"
    AGE_OVER_MAX = "age_over_max", "Over the maximum age"
    SUBSTANCE_NOT_ELIGIBLE = "substance_not_eligible", "Substance not eligible"
    QUANTITY_OVER_LIMIT = "quantity_over_limit", "Quantity over the limit"
    RECENT_DIVERSION = "recent_diversion", "Diverted within the previous 12 months"


EXCLUSION_PREFIX = "exclusion:"


class LeapDayRule(models.TextChoices):
    """When someone born on 29 February has their birthday in a non-leap year."""

    MARCH_1 = "march_1", "1 March in non-leap years (UK practice)"
    FEBRUARY_28 = "february_28", "28 February in non-leap years"


class ReoffenceSource(models.TextChoices):
    OFFICER = "officer", "Entered by an officer"
    IMPORT = "import", "Imported from a police-records match"
    DEMO = "demo", "Demo data"


# The encounter CSV's columns (SPEC §7), in order: imports read them, generators write them.
ENCOUNTER_CSV_COLUMNS: tuple[str, ...] = (
    "encounter_ref",
    "person_ref",
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "ethnicity",
    "borough_code",
    "encounter_date",
    "substance",
    "quantity_grams",
    "exclusions",
    "accepted",
    "provider",
    "attended_on",
    "completed_on",
    "did_not_attend_on",
    "withdrawn_on",
)
