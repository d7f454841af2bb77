"""What the API answers and accepts, described for the OpenAPI schema.

Answers are built from the same rows and labels as the pages (`cases.labels`,
`cases.timeline`); inputs are checked by the pages' own forms (`cases.forms`), so the API
and the UI accept exactly the same things.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import sensitive
from cases.labels import data_text, label, person
from cases.models import (
    Appeal,
    Applicant,
    Application,
    Deadline,
    DetentionAppeal,
    DetentionOrder,
    DetentionReview,
    Document,
    Facility,
    FamilyLink,
    Interview,
    Note,
    Placement,
    Status,
)
from cases.timeline_detention import DetentionRecords


class Moment(serializers.DateTimeField):
    """Moments in UTC (RFC 3339), whatever the zone the pages show them in: a client's
    parser never meets a historical local offset such as Vilnius's +01:41:16 of 1880."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("default_timezone", dt.UTC)
        super().__init__(**kwargs)


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: Moment,
    }


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


def _hidden(serializer) -> frozenset[str]:
    """The hidden sensitive facts, read once per response (shared through the context)."""
    context = serializer.context
    if "hidden_facts" not in context:
        context["hidden_facts"] = sensitive.hidden_facts()
    return context["hidden_facts"]


class ApplicantSerializer(serializers.Serializer):
    family_name = serializers.CharField()
    given_names = serializers.CharField()
    name_original = serializers.CharField()
    nationality = serializers.CharField(source="nationality.code", allow_null=True)
    date_of_birth = serializers.DateField(allow_null=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # A hidden sensitive fact reads "[hidden]": the API offers no reveal.
        hidden = _hidden(self)
        data["name_original"] = str(
            sensitive.shown(data["name_original"], "applicant.name_original", hidden)
        )
        return data


@extend_schema_field(OpenApiTypes.STR)
class PersonField(serializers.Field):
    def to_representation(self, value) -> str:
        return person(value)


class CaseSerializer(ModelSerializer):
    applicant = ApplicantSerializer()
    status_label = serializers.SerializerMethodField()
    procedure_label = serializers.SerializerMethodField()
    unit = serializers.CharField(source="unit.name")
    assigned_to = serializers.IntegerField(source="assigned_to_id", allow_null=True)
    assigned_to_name = serializers.CharField(source="assigned_to", allow_null=True)
    decision_outcome = serializers.ChoiceField(
        choices=Application.Outcome.choices, allow_null=True, help_text="null until decided."
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "reference",
            "status",
            "status_label",
            "status_changed_at",
            "procedure",
            "procedure_label",
            "applicant",
            "unit",
            "assigned_to",
            "assigned_to_name",
            "submitted_on",
            "lodged_on",
            "decision_outcome",
            "decided_on",
            "served_on",
            "next_deadline_at",
        ]
        read_only_fields = fields

    def get_status_label(self, case: Application) -> str:
        return label(Status, case.status)

    def get_procedure_label(self, case: Application) -> str:
        return label(Application.Procedure, case.procedure)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["assigned_to_name"] = person(instance.assigned_to) or None
        data["decision_outcome"] = instance.decision_outcome or None
        return data


class CasePageSerializer(serializers.Serializer):
    """One page of the case list: the cursors of the next and previous pages (links), or
    null at either end."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CaseSerializer(many=True)


class TransitionOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    allowed = serializers.BooleanField()
    blocked_reason = serializers.CharField(allow_null=True)


class FamilyLinkSerializer(serializers.Serializer):
    """A family link of the case's applicant, read from their side. `reference` is the
    relative's newest case that the user may read, or null: the link is shown, the other
    case and its applicant are not."""

    relation = serializers.ChoiceField(
        choices=FamilyLink.Relation.choices,
        help_text="What the family member is to this case's applicant.",
    )
    relation_label = serializers.CharField()
    reference = serializers.CharField(allow_null=True)
    recorded_at = Moment()


class VulnerabilitySerializer(serializers.Serializer):
    assessed_on = serializers.DateField()
    assessor = serializers.CharField()
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Application.Vulnerability.choices),
        help_text="The categories found (empty when none were found, or while hidden).",
    )
    category_labels = serializers.ListField(child=serializers.CharField())
    categories_hidden = serializers.BooleanField(
        help_text="The categories are special-category data that administrators list as "
        "sensitive: hidden here always (the API offers no reveal; the case page does, and "
        "records it)."
    )


class AgeAssessmentSerializer(serializers.Serializer):
    assessed_on = serializers.DateField()
    assessed_by = serializers.CharField(help_text="The user who recorded the assessment.")
    method = serializers.ChoiceField(choices=Application.AgeMethod.choices)
    method_label = serializers.CharField()
    result = serializers.ChoiceField(choices=Application.AgeResult.choices)
    result_label = serializers.CharField()
    benefit_of_doubt = serializers.BooleanField()
    unaccompanied = serializers.BooleanField()


class RepresentativeSerializer(serializers.Serializer):
    name = serializers.CharField()
    organisation = serializers.CharField()
    appointed_on = serializers.DateField()
    appointed_by = serializers.CharField()


class LegalRepresentativeSerializer(serializers.Serializer):
    name = serializers.CharField()
    organisation = serializers.CharField()
    contact = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    """The person behind the case, as the case page shows it: each record null until made."""

    vulnerability = VulnerabilitySerializer(allow_null=True)
    age_assessment = AgeAssessmentSerializer(allow_null=True)
    representative = RepresentativeSerializer(
        allow_null=True, help_text="The guardian or representative of an unaccompanied minor."
    )
    legal_representative = LegalRepresentativeSerializer(allow_null=True)
    unaccompanied_minor = serializers.BooleanField(
        help_text="Treated as an unaccompanied minor (by either assessment)."
    )
    needs_representative = serializers.BooleanField()
    special_guarantees = serializers.ListField(
        child=serializers.CharField(),
        help_text="The special procedural guarantees the assessments call for.",
    )


def person_facts(case: Application, hidden: frozenset[str]) -> dict:
    """The person's records of a case, hiding what the sensitive-field rules hide."""
    codes = [c for c in (case.vulnerabilities or "").split(",") if c]
    categories_hidden = "application.vulnerabilities" in hidden and bool(codes)
    return {
        "vulnerability": {
            "assessed_on": case.vulnerability_assessed_on,
            "assessor": case.vulnerability_assessor,
            "categories": [] if categories_hidden else codes,
            "category_labels": [] if categories_hidden else case.vulnerability_labels(),
            "categories_hidden": categories_hidden,
        }
        if case.vulnerability_assessed_on
        else None,
        "age_assessment": {
            "assessed_on": case.age_assessed_on,
            "assessed_by": person(case.age_assessed_by),
            "method": case.age_assessment_method,
            "method_label": label(Application.AgeMethod, case.age_assessment_method),
            "result": case.age_assessment_result,
            "result_label": label(Application.AgeResult, case.age_assessment_result),
            "benefit_of_doubt": case.age_benefit_of_doubt,
            "unaccompanied": case.age_unaccompanied,
        }
        if case.age_assessed_on
        else None,
        "representative": {
            "name": case.representative_name,
            "organisation": case.representative_organisation,
            "appointed_on": case.representative_appointed_on,
            "appointed_by": case.representative_appointed_by,
        }
        if case.representative_appointed_on
        else None,
        "legal_representative": {
            "name": case.legal_representative_name,
            "organisation": case.legal_representative_organisation,
            "contact": case.legal_representative_contact,
        }
        if case.legal_representative_name
        else None,
        "unaccompanied_minor": case.is_unaccompanied_minor(),
        "needs_representative": case.needs_representative(),
        "special_guarantees": case.special_guarantees(),
    }


class AppealSerializer(ModelSerializer):
    """One appeal to a court, at one level, with its labels (read-only: appeals are lodged
    and judged through the workflow)."""

    subject_label = serializers.SerializerMethodField()
    level_label = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()
    outcome_label = serializers.SerializerMethodField()

    class Meta:
        model = Appeal
        fields = [
            "id",
            "subject",
            "subject_label",
            "level",
            "level_label",
            "first_instance",
            "court",
            "court_case_number",
            "lodged_on",
            "suspensive_effect",
            "suspension",
            "suspension_decided_on",
            "judgment_on",
            "outcome",
            "outcome_label",
        ]
        read_only_fields = fields

    def get_subject_label(self, appeal: Appeal) -> str:
        return label(Appeal.Subject, appeal.subject)

    def get_level_label(self, appeal: Appeal) -> str:
        return label(Appeal.Level, appeal.level)

    @extend_schema_field(serializers.ChoiceField(choices=Appeal.Outcome.choices, allow_null=True))
    def get_outcome(self, appeal: Appeal) -> str | None:
        return appeal.outcome or None

    def get_outcome_label(self, appeal: Appeal) -> str:
        return label(Appeal.Outcome, appeal.outcome) if appeal.outcome else ""


class InterviewSerializer(ModelSerializer):
    """A personal interview of the case: when, who interviews, the interpreter and the
    language, how it went, and the id of its record (a document of the case)."""

    interviewer = serializers.IntegerField(source="interviewer_id")
    interviewer_name = PersonField(source="interviewer")
    status_label = serializers.SerializerMethodField()
    record = serializers.IntegerField(source="record_id", allow_null=True)

    class Meta:
        model = Interview
        fields = [
            "id",
            "scheduled_at",
            "interviewer",
            "interviewer_name",
            "interpreter",
            "language",
            "status",
            "status_label",
            "held_on",
            "missed_on",
            "record",
        ]
        read_only_fields = fields

    def get_status_label(self, interview: Interview) -> str:
        return label(Interview.Status, interview.status)


class PlacementSerializer(ModelSerializer):
    facility = serializers.CharField(source="facility.name")

    class Meta:
        model = Placement
        fields = [
            "id",
            "facility",
            "regime",
            "alternative",
            "starts_at",
            "legal_basis",
            "court_order_until",
            "review_due",
            "last_resort_reason",
        ]
        read_only_fields = fields


class DetentionOrderSerializer(ModelSerializer):
    class Meta:
        model = DetentionOrder
        fields = ["id", "placement", "is_extension", "court", "case_number", "ordered_at", "until"]
        read_only_fields = fields


class DetentionReviewSerializer(ModelSerializer):
    class Meta:
        model = DetentionReview
        fields = ["id", "placement", "reviewed_on", "reviewed_by", "result"]
        read_only_fields = fields


class DetentionAppealSerializer(ModelSerializer):
    class Meta:
        model = DetentionAppeal
        fields = ["id", "placement", "lodged_on", "court", "case_number", "result", "decided_on"]
        read_only_fields = fields


class CaseDetailSerializer(CaseSerializer):
    transitions = serializers.SerializerMethodField()
    family = serializers.SerializerMethodField()
    person = serializers.SerializerMethodField()
    appeals = AppealSerializer(many=True, read_only=True)
    interviews = serializers.SerializerMethodField()
    service_method = serializers.ChoiceField(
        choices=Application.ServiceMethod.choices,
        allow_null=True,
        help_text="How the decision was served; null until recorded.",
    )

    placement = serializers.SerializerMethodField(
        help_text="The current placement (detention, an alternative to it, accommodation)."
    )
    detention_orders = serializers.SerializerMethodField(
        help_text="The court's orders on detention: the first and its extensions, oldest first."
    )
    detention_reviews = serializers.SerializerMethodField()
    detention_appeals = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "apprehended_on",
            "submission_place",
            "submission_authority",
            "claim_summary",
            "interviewed_on",
            "appeals",
            "interviews",
            "service_method",
            "service_language",
            "person",
            "family",
            "placement",
            "detention_orders",
            "detention_reviews",
            "detention_appeals",
            "transitions",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        hidden = _hidden(self)
        for name in ("claim_summary",):
            data[name] = str(sensitive.shown(data[name], f"application.{name}", hidden))
        data["service_method"] = instance.service_method or None
        return data

    def get_transitions(self, case: Application) -> list[dict]:
        return TransitionOptionSerializer(self.context.get("transitions", []), many=True).data

    @extend_schema_field(PersonSerializer)
    def get_person(self, case: Application) -> dict:
        return PersonSerializer(person_facts(case, _hidden(self))).data

    @extend_schema_field(FamilyLinkSerializer(many=True))
    def get_family(self, case: Application) -> list[dict]:
        return FamilyLinkSerializer(self.context.get("family", []), many=True).data

    @extend_schema_field(InterviewSerializer(many=True))
    def get_interviews(self, case: Application) -> list[dict]:
        rows = case.interviews.select_related("interviewer").order_by("scheduled_at", "pk")
        return InterviewSerializer(rows, many=True).data

    def _detention(self, case: Application) -> DetentionRecords:
        if "detention" not in self.context:
            self.context["detention"] = DetentionRecords.of(case)
        return self.context["detention"]

    @extend_schema_field(PlacementSerializer(allow_null=True))
    def get_placement(self, case: Application) -> dict | None:
        current = case.current_placement()
        return PlacementSerializer(current).data if current is not None else None

    @extend_schema_field(DetentionOrderSerializer(many=True))
    def get_detention_orders(self, case: Application) -> list[dict]:
        return DetentionOrderSerializer(self._detention(case).orders, many=True).data

    @extend_schema_field(DetentionReviewSerializer(many=True))
    def get_detention_reviews(self, case: Application) -> list[dict]:
        return DetentionReviewSerializer(self._detention(case).reviews, many=True).data

    @extend_schema_field(DetentionAppealSerializer(many=True))
    def get_detention_appeals(self, case: Application) -> list[dict]:
        return DetentionAppealSerializer(self._detention(case).appeals, many=True).data


class EventSerializer(serializers.Serializer):
    """One row of the case's timeline, as the case page shows it. A system row (a deadline
    opened, met, missed or cancelled) has `actor` "Haven", says `because` of which person's
    action, and names that action's event in `cause` when it is in the answer."""

    id = serializers.IntegerField()
    at = Moment()
    recorded_at = Moment(allow_null=True)
    system = serializers.BooleanField()
    cause = serializers.IntegerField(allow_null=True)
    because = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    actor = serializers.CharField()
    title = serializers.CharField()
    details = serializers.CharField()
    text = serializers.CharField()
    link = serializers.CharField()
    link_text = serializers.CharField()
    reason = serializers.CharField()


class NoteSerializer(ModelSerializer):
    author = PersonField()

    class Meta:
        model = Note
        fields = ["id", "text", "author", "created_at"]
        read_only_fields = fields


class NoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000)


class FacilitySerializer(ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    occupancy = serializers.SerializerMethodField()
    occupied = serializers.SerializerMethodField()
    free = serializers.SerializerMethodField()

    class Meta:
        model = Facility
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "kind_label",
            "operator",
            "address",
            "capacity",
            "is_active",
            "occupancy",
            "occupied",
            "free",
        ]
        read_only_fields = fields

    def _counts(self, facility: Facility) -> dict[str, int]:
        return self.context.get("occupancy", {}).get(facility.pk, {})

    def get_kind_label(self, facility: Facility) -> str:
        return label(Facility.Kind, facility.kind)

    def get_occupancy(self, facility: Facility) -> dict[str, int]:
        """People placed there now, by regime (accommodation, restricted, detention)."""
        return dict(self._counts(facility))

    def get_occupied(self, facility: Facility) -> int:
        return sum(self._counts(facility).values())

    def get_free(self, facility: Facility) -> int:
        return max(facility.capacity - self.get_occupied(facility), 0)


class TransitionInputSerializer(serializers.Serializer):
    """The body of a transition: the status the client saw, a reason, and the transition's
    own inputs (each transition uses some of the optional fields)."""

    expected_status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField(max_length=5000)
    assignee = serializers.IntegerField(required=False, help_text="Used by start_examination.")
    facility = serializers.IntegerField(required=False, help_text="Used by detain.")
    legal_basis = serializers.CharField(required=False, help_text="Used by detain.")
    order_reference = serializers.CharField(required=False, help_text="Used by detain.")
    ordering_authority = serializers.CharField(required=False, help_text="Used by detain.")
    outcome = serializers.ChoiceField(
        choices=Application.Outcome.choices, required=False, help_text="Used by decide."
    )
    decided_on = serializers.DateField(required=False, help_text="Used by decide.")
    served_on = serializers.DateField(required=False, help_text="Used by decide.")
    inadmissibility_ground = serializers.ChoiceField(
        choices=Application.InadmissibilityGround.choices,
        required=False,
        help_text="Used by decide (an inadmissibility decision names its ground).",
    )
    return_decision_reference = serializers.CharField(
        required=False, help_text="Used by decide (a return decision following a rejection)."
    )
    court = serializers.CharField(required=False, help_text="Used by appeal.")
    court_case_number = serializers.CharField(required=False, help_text="Used by appeal.")
    suspensive_effect = serializers.ChoiceField(
        choices=Appeal.Suspensive.choices, required=False, help_text="Used by appeal."
    )
    lodged_on = serializers.DateField(required=False, help_text="Used by appeal.")
    late_reason = serializers.CharField(required=False, help_text="Used by appeal.")
    judgment_final_on = serializers.DateField(required=False, help_text="Used by remit.")
    kind = serializers.ChoiceField(
        choices=Application.Withdrawal.choices, required=False, help_text="Used by withdraw."
    )


class DeadlineSerializer(ModelSerializer):
    case = serializers.IntegerField(source="application_id")
    reference = serializers.CharField(source="application.reference")
    rule = serializers.CharField(source="rule_id")
    rule_name = serializers.SerializerMethodField()
    status_label = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Deadline
        fields = [
            "id",
            "case",
            "reference",
            "rule",
            "rule_name",
            "legal_reference",
            "due_on",
            "due_at",
            "status",
            "status_label",
            "overdue",
            "closed_at",
        ]
        read_only_fields = fields

    def get_rule_name(self, deadline: Deadline) -> str:
        return str(data_text(deadline.rule.name))

    def get_status_label(self, deadline: Deadline) -> str:
        return label(Deadline.Status, deadline.status)

    def get_overdue(self, deadline: Deadline) -> bool:
        """Open and past the last moment it is met (`due_at`)."""
        return deadline.is_overdue(self.context["now"])


class DeadlinePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DeadlineSerializer(many=True)


class IntakeInputSerializer(serializers.Serializer):
    """A new case, with the intake page's fields. When possible duplicates of the applicant
    exist the answer is 409 with them as `candidates`; send again with `applicant`: one of
    their ids (link the case to that person) or "new"."""

    family_name = serializers.CharField()
    given_names = serializers.CharField(required=False)
    name_original = serializers.CharField(required=False)
    aliases = serializers.CharField(required=False)
    date_of_birth = serializers.DateField(required=False)
    sex = serializers.ChoiceField(choices=Applicant.Sex.choices)
    nationality = serializers.CharField(required=False, help_text="ISO 3166 code.")
    languages = serializers.CharField(required=False)
    military_status = serializers.CharField(required=False)
    military_rank = serializers.CharField(required=False)
    military_unit = serializers.CharField(required=False)
    military_background = serializers.CharField(required=False)
    procedure = serializers.ChoiceField(choices=Application.Procedure.choices)
    submitted_on = serializers.DateField()
    lodged_on = serializers.DateField(required=False)
    apprehended_on = serializers.DateField(required=False)
    apprehension_time = serializers.TimeField(
        required=False,
        help_text="HH:MM, Vilnius time, with apprehended_on: the 48-hour limit runs from it.",
    )
    apprehension_place = serializers.CharField(required=False)
    entered_on = serializers.DateField(required=False)
    submission_place = serializers.CharField(required=False)
    submission_authority = serializers.ChoiceField(choices=Application.Authority.choices)
    grounds = serializers.ListField(
        child=serializers.ChoiceField(choices=Application.Ground.choices), required=False
    )
    claim_summary = serializers.CharField(required=False)
    assign_to_me = serializers.BooleanField(required=False)
    relative_reference = serializers.CharField(
        required=False,
        help_text="A family member's case (its reference), with relation: the new applicant is "
        "linked to that case's applicant.",
    )
    relation = serializers.ChoiceField(
        choices=FamilyLink.Relation.choices,
        required=False,
        help_text="What the family member is to the new applicant.",
    )
    applicant = serializers.CharField(
        required=False, help_text='After a 409: a candidate\'s id, or "new".'
    )


class CandidateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    name_original = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    nationality = serializers.CharField()
    reasons = serializers.CharField()
    cases = serializers.ListField(child=serializers.CharField())


class DuplicatesSerializer(ErrorSerializer):
    candidates = CandidateSerializer(many=True)


class DocumentSerializer(ModelSerializer):
    name = serializers.CharField(source="original_name")
    uploaded_by = PersonField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "name",
            "description",
            "content_type",
            "size",
            "uploaded_by",
            "uploaded_at",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, document: Document) -> str:
        """The access-checked download (recorded in the case's access log)."""
        from django.urls import reverse

        return reverse("api:case_document", args=[document.application_id, document.pk])


class DocumentInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, image (PNG, JPEG, GIF, WebP) or plain text.")
    description = serializers.CharField(required=False, max_length=300)
