"""The case list's search, filters and sort orders (django-filter).

Every filter here narrows a queryset that already comes from `access.visible_applications`,
so a filter can never widen what a user sees. Each filter maps to an indexed column or a small
subquery, and the sort orders use stored columns (`submitted_on`, `status_changed_at`,
`next_deadline_at`), so a page of the list costs the same at a hundred cases or a million.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from . import access
from .forms import Form
from .models import Applicant, Application, Placement, Status, UnitTrigrams, kept_by_triggers
from .names import fold_word
from .reference import facility_names
from .staff import staff_choices

# Where the triggers keep a copy of the applicant's search key on the case (PostgreSQL), a
# name search filters cases by it directly, through the case's own trigram index.
# Elsewhere it looks up matching applicants first, then filters cases by their ids; past this
# many people the name is too common to list usefully: the page takes the most recently
# registered and asks for a narrower search.
APPLICANT_MATCH_LIMIT = 2_000
MIN_SEARCH_CHARS = 3
MAX_QUERY_CHARS = 200

SORT_CHOICES = (
    ("-submitted", _("Newest applications first")),
    ("submitted", _("Waiting longest since submission")),
    ("in_state", _("Longest in the current status")),
    ("-in_state", _("Most recently changed status")),
    ("deadline", _("Nearest deadline first")),
    ("reference", _("Reference")),
    ("name", _("Applicant's family name")),
)
SORT_ORDERS = {
    "-submitted": ("-submitted_on", "-id"),
    "submitted": ("submitted_on", "id"),
    "in_state": ("status_changed_at", "id"),
    "-in_state": ("-status_changed_at", "-id"),
    "deadline": (F("next_deadline_at").asc(nulls_last=True), "id"),
    "reference": ("reference",),
    "name": ("applicant__family_name", "applicant__given_names", "id"),
}
DEFAULT_SORT = "-submitted"


def clean_query(raw: str | None) -> str:
    """A search query made safe for the database: no NUL bytes, bounded length, trimmed."""
    return (raw or "").replace("\x00", "").strip()[:MAX_QUERY_CHARS]


class NameSearch:
    """A search query: the case reference, or the applicant's names.

    Names match in any script and romanisation: the query is folded like the stored
    `Applicant.search_key` (so `Королёв`, `Korolyov` and `korolev` are one key), and every
    word of it must occur in the key. Words shorter than three characters cannot use the
    trigram index and are only matched together with a longer one.

    On PostgreSQL the words are matched against the case's copy of the key
    (`Application.search_key`, kept by triggers), so the list's one query finds, counts and
    orders the matching cases of the user's unit through `application_unit_search_trgm_idx`
    (the unit's entries only: `access.visible_applications` compares the unit as a bigint);
    nothing is read beforehand and every match can be listed (the list's count stops at its
    cap like any other filter).

    The count of a caseworker's search (`counted`) is narrowed, as well, to the cases the
    index of their unit's trigrams holds (`application_unit_trigram_idx`, `unit_trigrams`):
    it reads the unit's entries of the query's trigrams only, where the index of the unit and
    the key intersects them with the unit's own entry, every case of the unit. The page's
    rows are not narrowed so: PostgreSQL cannot tell how many cases hold all of a word's
    trigrams (it multiplies their shares), and, counting on a handful, would read every match
    of a common name to sort them instead of walking the unit's newest cases.

    Elsewhere (the embedded SQLite database, without the triggers) the matching applicants
    are looked up once: at most APPLICANT_MATCH_LIMIT, the most recently registered first;
    `truncated` says that more matched, so that the page can say so.
    """

    def __init__(
        self, query: str | None, *, unit: int | None = None, also: Iterable[int] = ()
    ) -> None:
        self.query = clean_query(query)
        # The unit whose trigrams narrow the count, and the other cases the user may read
        # (`access.name_search_scope`).
        self.unit = unit
        self.also = list(also)
        self.words = fold_word(self.query).split()
        self.names = bool(self.words) and max(len(w) for w in self.words) >= MIN_SEARCH_CHARS
        self.on_cases = kept_by_triggers()
        self.applicant_ids: list[int] | None = None
        self.limit = APPLICANT_MATCH_LIMIT
        self.truncated = False
        if self.names and not self.on_cases:
            applicants = Applicant.objects.all()
            for word in self.words:
                applicants = applicants.filter(search_key__contains=word)
            ids = list(
                applicants.order_by("-pk").values_list("pk", flat=True)[: APPLICANT_MATCH_LIMIT + 1]
            )
            self.truncated = len(ids) > APPLICANT_MATCH_LIMIT
            self.applicant_ids = ids[:APPLICANT_MATCH_LIMIT]

    def _reference(self) -> Q:
        reference = self.query.upper()
        if len(reference) >= MIN_SEARCH_CHARS:
            return Q(reference__contains=reference)
        return Q(reference=reference)

    def filter(self, queryset: QuerySet[Application]) -> QuerySet[Application]:
        """Cases whose reference contains the query, or whose applicant's names match it."""
        if not self.query:
            return queryset
        matches = self._reference()
        if self.names and self.on_cases:
            names = Q()
            for word in self.words:
                names &= Q(search_key__contains=word)
            matches |= names
        elif self.applicant_ids:
            matches |= Q(applicant_id__in=self.applicant_ids)
        return queryset.filter(matches)

    def counted(self, cases: QuerySet[Application]) -> QuerySet[Application]:
        """`cases` (this search's, within the user's scope) as the list counts them: also
        required to be a reference match, in the unit's trigram index, or one of the other
        cases. Every match already is one of these, so the answer is the same; the
        condition is what the trigram index answers without reading the rest of the unit."""
        if not (self.names and self.on_cases and self.unit is not None):
            return cases
        found = self._reference() | Q(unit_trigrams__contains=unit_trigrams(self.unit, self.words))
        if self.also:
            found |= Q(pk__in=self.also)
        return cases.alias(unit_trigrams=UnitTrigrams("unit_id", "search_key")).filter(found)


def unit_trigrams(unit: int, words: list[str]) -> list[str]:
    """What `application_unit_trigram_idx` holds of every case of `unit` whose key contains
    all of `words`: each word's trigrams (any three characters in a row of it), after the
    unit, as the database's `haven_unit_trigrams` writes them."""
    return sorted({f"{unit}:{word[i : i + 3]}" for word in words for i in range(len(word) - 2)})


def search_applications(queryset: QuerySet[Application], query: str) -> QuerySet[Application]:
    """Cases whose reference contains `query`, or whose applicant's names match it."""
    return NameSearch(query).filter(queryset)


def facility_choices() -> list[tuple[int, str]]:
    """Every facility, by name, as filter choices: the shared cache's facility names
    (`cases.reference`), replaced when a facility changes."""
    return list(facility_names().items())


def caseworker_choices(user) -> list[tuple[str, str]]:
    """The people a case can be assigned to, as filter choices: the user's unit's active
    caseworkers and decision-makers (everyone's, for a user without a unit)."""
    return staff_choices(user.unit_id, every_unit=not user.unit_id)


# Escaped (value, label) pairs of the choice lists that do not depend on the user or the data
# (statuses, procedures, countries, sort orders), per field and language.
_STATIC_OPTIONS: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
STATIC_SELECTS = ("status", "procedure", "nationality", "sort")
SELECTS = ("status", "procedure", "facility", "nationality", "assigned", "sort")


def _escaped_options(choices) -> list[tuple[str, str, str]]:
    # The standard library's escape (what Django's `escape` calls), without Django's wrapping
    # of each result: the unit's staff list has hundreds of names.
    return [
        (value, html.escape(value), html.escape(str(label)))
        for value, label in ((str(v), label) for v, label in choices)
        if not isinstance(label, (list, tuple))  # no option groups in these lists
    ]


def select_field_group(bound_field, *, static: bool = False) -> SafeString:
    """A filter's <label> and <select> as one string, the same markup as Django's field
    group (label, errors, select with `aria-invalid`), built without a template per option.

    Django renders every <option> through its own template: for the 250 countries and the
    unit's staff that was half of the case list's time. `static=True` caches the escaped
    choices per language for lists that never change at run time.
    """
    field = bound_field.field
    if static:
        key = (bound_field.name, get_language() or "")
        options = _STATIC_OPTIONS.get(key)
        if options is None:
            options = _STATIC_OPTIONS[key] = _escaped_options(field.choices)
    else:
        options = _escaped_options(field.choices)
    value = bound_field.value()
    current = "" if value is None else str(value)
    widget_id = escape(bound_field.auto_id)
    invalid = (
        f' aria-invalid="true" aria-describedby="{widget_id}_error"' if bound_field.errors else ""
    )
    parts = [f'<label for="{widget_id}">{escape(str(bound_field.label))}</label>']
    if bound_field.errors:
        parts.append(str(bound_field.errors))
    parts.append(f'<select name="{escape(bound_field.html_name)}" id="{widget_id}"{invalid}>')
    parts.extend(
        f'<option value="{ev}"{" selected" if v == current else ""}>{el}</option>'
        for v, ev, el in options
    )
    parts.append("</select>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped


class ApplicationFilter(django_filters.FilterSet):
    """The case list's filters. Build it with `request=` so that choices follow the user."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=MAX_QUERY_CHARS,
        help_text=_("Reference, or a name in any script (Latin, Cyrillic, …) or alias."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Status.choices, empty_label=_("Any status")
    )
    procedure = django_filters.ChoiceFilter(
        label=_("Procedure"), choices=Application.Procedure.choices, empty_label=_("Any")
    )
    facility = django_filters.ChoiceFilter(
        label=_("Placed at"),
        choices=lambda: facility_choices(),
        method="filter_facility",
        empty_label=_("Any facility"),
    )
    nationality = django_filters.ChoiceFilter(
        label=_("Nationality"),
        method="filter_nationality",
        choices=lambda: list(countries),
        empty_label=_("Any"),
    )
    assigned = django_filters.ChoiceFilter(
        label=_("Assigned to"), method="filter_assigned", empty_label=_("Anyone or nobody")
    )
    overdue = django_filters.BooleanFilter(
        label=_("Only cases with an overdue deadline"),
        method="filter_overdue",
        widget=forms.CheckboxInput,
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        choices=SORT_CHOICES,
        method="filter_sort",
        empty_label=None,
        null_label=None,
    )

    class Meta:
        model = Application
        fields: list[str] = []
        form = Form

    def __init__(self, data=None, *args, request=None, **kwargs) -> None:
        super().__init__(data, *args, request=request, **kwargs)
        user = getattr(request, "user", None)
        choices = [("me", _("Me")), ("none", _("Nobody (unassigned)"))]
        if user is not None and user.is_authenticated:
            choices += caseworker_choices(user)
        self.filters["assigned"].extra["choices"] = choices

    # -- filter methods -------------------------------------------------------------------

    def filter_search(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        self.name_search = NameSearch(value, **access.name_search_scope(user))
        return self.name_search.filter(queryset)

    @property
    def counted(self) -> QuerySet[Application]:
        """The filtered cases as the list counts them (`NameSearch.counted`)."""
        cases = self.qs  # (filtering is what makes the name search)
        search = getattr(self, "name_search", None)
        return cases if search is None else search.counted(cases)

    def filter_facility(self, queryset, name, value):
        if not value:
            return queryset
        here_now = Placement.objects.filter(
            application_id=OuterRef("pk"), facility_id=int(value), ends_at__isnull=True
        )
        return queryset.filter(Exists(here_now))

    def filter_nationality(self, queryset, name, value):
        if not value:
            return queryset
        # The case's copy of the nationality (kept by triggers, indexed with unit and
        # status) where it exists; through the applicant elsewhere.
        field = "nationality" if kept_by_triggers() else "applicant__nationality"
        return queryset.filter(**{field: value})

    def filter_assigned(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assigned_to_id=getattr(self.request.user, "pk", None))
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        if value and value.isascii() and value.isdigit():
            return queryset.filter(assigned_to_id=int(value))
        return queryset

    def filter_overdue(self, queryset, name, value):
        # `next_deadline_at` is the nearest open deadline, kept by the workflow: a case has an
        # overdue deadline exactly when that moment has passed.
        if value:
            return queryset.filter(next_deadline_at__lt=timezone.now())
        return queryset

    def filter_sort(self, queryset, name, value):
        return queryset.order_by(*SORT_ORDERS.get(value or DEFAULT_SORT, SORT_ORDERS[DEFAULT_SORT]))
