"""The default statutory deadline rules (DOMAIN.md section 3), as an idempotent function.

Administrators edit rules in the admin; this only creates a rule whose code is missing, so an
edited rule is never overwritten. Where the law gives two values by date, each has its own
rule with `applies_from`/`applies_until` compared with the case's date of submission.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_noop

# Names and legal sources are data (administrators edit them), written here in English and
# marked for the catalogue: pages show a default in the reader's language (`labels.data_text`),
# and a text an administrator wrote as it was written.

APR_APPLIES_FROM = dt.date(2026, 6, 12)

DEFAULT_RULES: list[dict] = [
    {
        "code": "registration",
        "name": gettext_noop("Registration of the application"),
        "legal_source": gettext_noop(
            "Directive 2013/32/EU Art. 6(1): 3 working days after the application is made"
        ),
        "start_event": "submitted",
        "stop_event": "lodged",
        "duration": 3,
        "unit": "working_days",
        "roll_forward": False,
        "reminder_days": "1",
        "applies_until": APR_APPLIES_FROM - dt.timedelta(days=1),
    },
    {
        "code": "registration-apr",
        "name": gettext_noop("Registration of the application (APR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 27(1): 5 days after the application is made"
        ),
        "start_event": "submitted",
        "stop_event": "lodged",
        "duration": 5,
        "unit": "calendar_days",
        "roll_forward": False,
        "reminder_days": "3,1",
        "applies_from": APR_APPLIES_FROM,
    },
    {
        "code": "examination",
        "name": gettext_noop("Examination period"),
        "legal_source": gettext_noop(
            "Law on the Legal Status of Aliens Art. 81(1): 6 months from submission, "
            "no statutory extension (LVAT eA-2137-575/2023)"
        ),
        "start_event": "submitted",
        "stop_event": "decided",
        "duration": 6,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "14,3,1",
    },
    {
        "code": "right-to-work",
        "name": gettext_noop("Right to work if no first-instance decision"),
        "legal_source": gettext_noop(
            "Law on the Legal Status of Aliens (UNHCR Help Lithuania): access to the labour "
            "market after 6 months without a first-instance decision"
        ),
        "start_event": "submitted",
        "stop_event": "decided",
        "duration": 6,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "14",
    },
    {
        "code": "detention-48h",
        "name": gettext_noop("Court order for detention beyond 48 hours"),
        "legal_source": gettext_noop(
            "Law on the Legal Status of Aliens: the State Border Guard Service may detain for up "
            "to 48 hours; longer only by a court decision (EUAA DIP, Detention – Lithuania)"
        ),
        "start_event": "detained",
        "stop_event": "court_order",
        "duration": 48,
        "unit": "hours",
        "roll_forward": False,
        "reminder_days": "1",
    },
    {
        "code": "detention-review",
        "name": gettext_noop("Detention authorised until (court order)"),
        "legal_source": gettext_noop(
            "The court order's 'until' date; Directive 2013/33/EU Art. 9(5) (review at "
            "reasonable intervals)"
        ),
        "start_event": "court_order_until",
        "stop_event": "court_order",
        "duration": 0,
        "unit": "calendar_days",
        "roll_forward": False,
        "reminder_days": "14,3,1",
    },
    {
        "code": "restriction-cap",
        "name": gettext_noop("18-month cap on restrictions of liberty since entry"),
        "legal_source": gettext_noop(
            "LVAT A-3944-822/2022 and A-1290-624/2023: at most 18 months from entry"
        ),
        "start_event": "entered",
        "stop_event": "",
        "duration": 18,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "30,14,3",
    },
    {
        "code": "appeal-window",
        "name": gettext_noop("Appeal against the decision"),
        "legal_source": gettext_noop(
            "14 calendar days from service of the decision to the Regional Administrative Court "
            "(LVAT AS-520-846-12; eAS-205-556/2025)"
        ),
        "start_event": "served",
        "stop_event": "appeal_lodged",
        "duration": 14,
        "unit": "calendar_days",
        "roll_forward": True,
        "reminder_days": "3,1",
    },
    {
        "code": "reexamination",
        "name": gettext_noop("Re-examination after a court remittal"),
        "legal_source": gettext_noop(
            "Law on the Legal Status of Aliens Art. 81: 3 months from the court decision "
            "entering into force"
        ),
        "start_event": "remitted",
        "stop_event": "decided",
        "duration": 3,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "14,3,1",
    },
]


def ensure_default_rules(rule_model=None) -> None:
    if rule_model is None:
        from .models import DeadlineRule

        rule_model = DeadlineRule
    for spec in DEFAULT_RULES:
        values = dict(spec)
        code = values.pop("code")
        rule_model.objects.get_or_create(code=code, defaults=values)
