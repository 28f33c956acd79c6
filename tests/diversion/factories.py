"""factory_boy factories that create data through the real services, as users would."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from boroughs.models import Borough
from boroughs.services import borough_configure
from diversion import services
from diversion.choices import ProviderKind
from diversion.models import Encounter, Person, Provider


def pilot_borough(gss_code: str = "E09000023", *, start: date | None = None) -> Borough:
    """Make a borough a pilot from ``start`` (default: a year ago), open-ended."""
    start = start or timezone.localdate() - timedelta(days=365)
    return borough_configure(gss_code=gss_code, role="pilot", pilot_start=start)


def comparison_borough(gss_code: str = "E09000008") -> Borough:
    """Make a borough a comparison borough."""
    return borough_configure(gss_code=gss_code, role="comparison")


class PersonFactory(factory.Factory):
    """A 20-year-old (7,400 days old), recorded with `diversion.services.person_create`."""

    class Meta:
        model = Person

    first_name = factory.Sequence(lambda n: f"Sam{n}")
    last_name = "Example"
    date_of_birth = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7400))
    gender = "male"
    ethnicity = "W1"
    by = None

    @classmethod
    def _create(cls, model_class, **kwargs) -> Person:
        return services.person_create(**kwargs)


class ProviderFactory(factory.django.DjangoModelFactory):
    """A drug-education service; pass ``boroughs=[...]`` for the boroughs it serves."""

    class Meta:
        model = Provider
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Drug education service {n}")
    kind = ProviderKind.DRUG_EDUCATION
    active = True

    @factory.post_generation
    def boroughs(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.boroughs.add(*extracted)


class EncounterFactory(factory.Factory):
    """An eligible encounter a week ago, judged by `diversion.services.encounter_record`.

    Pass ``borough`` (configured as pilot or comparison) and, to answer the offer at once,
    ``accepted``.
    """

    class Meta:
        model = Encounter

    officer = None
    person = factory.SubFactory(PersonFactory)
    borough = factory.LazyFunction(pilot_borough)
    encounter_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7))
    substance = "cannabis_herbal"
    quantity_grams = Decimal("3.5")
    exclusions = ()
    accepted = None

    @classmethod
    def _create(cls, model_class, **kwargs) -> Encounter:
        # The factory names the model's field; the service names the acting user ``by``.
        return services.encounter_record(by=kwargs.pop("officer"), **kwargs)
