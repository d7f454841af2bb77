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
# The family of the border procedure's clocks: when one runs out, entry must be allowed.
BORDER_FAMILY = "border"
# AMMR Art. 84: its responsibility rules apply to applications registered after 1 July 2026.
AMMR_APPLIES_FROM = dt.date(2026, 7, 2)

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
        "family": "registration",
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
        # Regulation 1182/71 Art. 3(4): a period of an EU regulation that ends on a
        # Saturday, Sunday or public holiday ends on the next working day.
        "roll_forward": True,
        "reminder_days": "3,1",
        "applies_from": APR_APPLIES_FROM,
        "family": "registration",
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
        "applies_until": APR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "examination",
    },
    {
        "code": "examination-apr",
        "name": gettext_noop("Examination period (APR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 35(4): 6 months from the lodging of the application"
        ),
        "start_event": "lodged",
        "stop_event": "decided",
        "duration": 6,
        "unit": "months",
        "roll_forward": True,
        "reminder_days": "14,3,1",
        "applies_from": APR_APPLIES_FROM,
        "family": "examination",
    },
    {
        "code": "examination-dublin",
        "name": gettext_noop("Examination period (Dublin case)"),
        "legal_source": gettext_noop(
            "Directive 2013/32/EU Art. 31(3): in a Dublin case, 6 months from the "
            "determination of the Member State responsible"
        ),
        "start_event": "responsibility_determined",
        "stop_event": "decided",
        "duration": 6,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "14,3,1",
        "procedures": "dublin",
        "family": "examination",
    },
    # The accelerated procedure (DOMAIN.md §3 row 10): its examination period replaces the
    # regular one (same family; the rule with a procedure wins).
    {
        "code": "examination-accelerated",
        "name": gettext_noop("Examination period (accelerated procedure)"),
        "legal_source": gettext_noop(
            "Law on the Legal Status of Aliens Art. 76(4); Directive 2013/32/EU Art. 31(9) "
            "('reasonable time limits'): 3 months from submission (default: the national "
            "time limit is not verified; an administrator sets it)"
        ),
        "start_event": "submitted",
        "stop_event": "decided",
        "duration": 3,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "14,3,1",
        "procedures": "accelerated",
        "applies_until": APR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "examination",
    },
    {
        "code": "examination-accelerated-apr",
        "name": gettext_noop("Examination period (accelerated procedure, APR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 35(3): the accelerated examination within 3 "
            "months of the lodging of the application"
        ),
        "start_event": "lodged",
        "stop_event": "decided",
        "duration": 3,
        "unit": "months",
        "roll_forward": True,
        "reminder_days": "14,3,1",
        "procedures": "accelerated",
        "applies_from": APR_APPLIES_FROM,
        "family": "examination",
    },
    # The border procedure (row 11): its own clock beside the examination period; when it
    # runs out, entry into the territory must be allowed (`BORDER_FAMILY`).
    {
        "code": "border-procedure",
        "name": gettext_noop("Border procedure: decision or entry"),
        "legal_source": gettext_noop(
            "Directive 2013/32/EU Art. 43(2): a decision within 4 weeks, otherwise the "
            "applicant is granted entry (Law on the Legal Status of Aliens Art. 140⁸(3)); "
            "counted from the making of the application"
        ),
        "start_event": "submitted",
        "stop_event": "decided",
        "duration": 28,
        "unit": "calendar_days",
        "roll_forward": False,
        "reminder_days": "7,3,1",
        "procedures": "border",
        "applies_until": APR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "border",
    },
    {
        "code": "border-procedure-apr",
        "name": gettext_noop("Border procedure: decision or entry (APR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 51(2): the border procedure, appeal included, "
            "within 12 weeks of registration; then the applicant is authorised to enter"
        ),
        "start_event": "lodged",
        "stop_event": "border_ended",
        "duration": 84,
        "unit": "calendar_days",
        "roll_forward": True,
        "reminder_days": "14,3,1",
        "procedures": "border",
        "applies_from": APR_APPLIES_FROM,
        "family": "border",
    },
    # The examination of admissibility (row 5): beside the examination period; a case found
    # admissible leaves the procedure and this clock is met.
    {
        "code": "inadmissibility",
        "name": gettext_noop("Examination of admissibility"),
        "legal_source": gettext_noop(
            "Law on the Legal Status of Aliens (law XIII-3412 of 10 November 2020): an "
            "admissibility decision within 3 working days of registration (EUAA Asylum Report "
            "2021; not verified against the law's text)"
        ),
        "start_event": "lodged",
        "stop_event": "decided",
        "duration": 3,
        "unit": "working_days",
        "roll_forward": False,
        "reminder_days": "1",
        "procedures": "admissibility",
        "applies_until": APR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "inadmissibility",
    },
    {
        "code": "inadmissibility-apr",
        "name": gettext_noop("Examination of admissibility (APR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 35(1): the examination of admissibility within 2 "
            "months of the lodging of the application, extendable by up to 2 months"
        ),
        "start_event": "lodged",
        "stop_event": "decided",
        "duration": 2,
        "unit": "months",
        "roll_forward": True,
        "reminder_days": "14,3,1",
        "procedures": "admissibility",
        "applies_from": APR_APPLIES_FROM,
        "family": "inadmissibility",
    },
    {
        "code": "inadmissibility-apr-extended",
        "name": gettext_noop("Examination of admissibility, extended (APR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 35(1): the examination of admissibility extended "
            "by up to 2 months (4 months from the lodging of the application)"
        ),
        "start_event": "inadmissibility_extended",
        "stop_event": "decided",
        "duration": 4,
        "unit": "months",
        "roll_forward": True,
        "reminder_days": "14,3,1",
        "procedures": "admissibility",
        "applies_from": APR_APPLIES_FROM,
        "family": "inadmissibility-extended",
    },
    # Implicit withdrawal (row 13): not a limit on the authority but the applicant's window
    # to have the case reopened; `workflow.withdraw` reads it and keeps the last day on the
    # case (`Application.reopen_until`), so nothing falls due or overdue when it passes.
    {
        "code": "reopening-window",
        "name": gettext_noop("Reopening of an implicitly withdrawn application"),
        "legal_source": gettext_noop(
            "Directive 2013/32/EU Art. 28(2): the applicant may have the case reopened for at "
            "least 9 months after the discontinuation (under the APR not verified: the same "
            "default)"
        ),
        "start_event": "implicitly_withdrawn",
        "stop_event": "",
        "duration": 9,
        "unit": "months",
        # The applicant's own period: a last day on a weekend or holiday moves to the next
        # working day (Civil Code Art. 1.121), as for the appeal window.
        "roll_forward": True,
        "reminder_days": "",
    },
    {
        "code": "dublin-request",
        "name": gettext_noop("Dublin request to another Member State"),
        "legal_source": gettext_noop(
            "Regulation (EU) 604/2013 Art. 21(1): a take-charge request within 3 months of "
            "lodging (time limits include weekends and holidays, Art. 42)"
        ),
        "start_event": "lodged",
        "stop_event": "dublin_request",
        "duration": 3,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "14,3,1",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_until": AMMR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "dublin-request",
    },
    {
        "code": "dublin-request-ammr",
        "name": gettext_noop("Dublin request to another Member State (AMMR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1351: a take-charge request within 2 months of registration "
            "(default: not verified against the official text)"
        ),
        "start_event": "lodged",
        "stop_event": "dublin_request",
        "duration": 2,
        "unit": "months",
        "roll_forward": True,
        "reminder_days": "14,3,1",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_from": AMMR_APPLIES_FROM,
        "family": "dublin-request",
    },
    {
        "code": "dublin-reply",
        "name": gettext_noop("Reply of the requested Member State"),
        "legal_source": gettext_noop(
            "Regulation (EU) 604/2013 Art. 22(1), (7): 2 months from the request; no reply in "
            "time is acceptance (default: not verified against the official text)"
        ),
        "start_event": "dublin_request_sent",
        "stop_event": "dublin_reply",
        "duration": 2,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "3",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_until": AMMR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "dublin-reply",
    },
    {
        "code": "dublin-reply-ammr",
        "name": gettext_noop("Reply of the requested Member State (AMMR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1351: 1 month from the request; no reply in time is "
            "acceptance (default: not verified against the official text)"
        ),
        "start_event": "dublin_request_sent",
        "stop_event": "dublin_reply",
        "duration": 1,
        "unit": "months",
        "roll_forward": True,
        "reminder_days": "3",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_from": AMMR_APPLIES_FROM,
        "family": "dublin-reply",
    },
    {
        "code": "dublin-transfer",
        "name": gettext_noop("Dublin transfer"),
        "legal_source": gettext_noop(
            "Regulation (EU) 604/2013 Art. 29(1): transfer within 6 months of the acceptance"
        ),
        "start_event": "transfer_accepted",
        "stop_event": "transferred",
        "duration": 6,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "30,14,3",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_until": AMMR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "dublin-transfer",
    },
    {
        "code": "dublin-transfer-ammr",
        "name": gettext_noop("Dublin transfer (AMMR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1351: transfer within 6 months of the acceptance"
        ),
        "start_event": "transfer_accepted",
        "stop_event": "transferred",
        "duration": 6,
        "unit": "months",
        "roll_forward": True,
        "reminder_days": "30,14,3",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_from": AMMR_APPLIES_FROM,
        "family": "dublin-transfer",
    },
    {
        "code": "dublin-transfer-imprisonment",
        "name": gettext_noop("Dublin transfer, extended: imprisonment"),
        "legal_source": gettext_noop(
            "Regulation (EU) 604/2013 Art. 29(2): at most 1 year from the acceptance if the "
            "applicant is imprisoned (AMMR: the same 1 year, not verified)"
        ),
        "start_event": "transfer_imprisonment",
        "stop_event": "transferred",
        "duration": 12,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "30,14,3",
        "procedures": "dublin",
        "key_date": "registered",
    },
    {
        "code": "dublin-transfer-absconding",
        "name": gettext_noop("Dublin transfer, extended: absconding"),
        "legal_source": gettext_noop(
            "Regulation (EU) 604/2013 Art. 29(2): at most 18 months from the acceptance if "
            "the applicant absconds"
        ),
        "start_event": "transfer_absconding",
        "stop_event": "transferred",
        "duration": 18,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "30,14,3",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_until": AMMR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "dublin-transfer-absconding",
    },
    {
        "code": "dublin-transfer-absconding-ammr",
        "name": gettext_noop("Dublin transfer, extended: absconding (AMMR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1351: at most 3 years from the acceptance if the applicant "
            "absconds (default: not verified against the official text)"
        ),
        "start_event": "transfer_absconding",
        "stop_event": "transferred",
        "duration": 36,
        "unit": "months",
        "roll_forward": True,
        "reminder_days": "30,14,3",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_from": AMMR_APPLIES_FROM,
        "family": "dublin-transfer-absconding",
    },
    {
        "code": "vulnerability-assessment-apr",
        "name": gettext_noop("Vulnerability assessment"),
        "legal_source": gettext_noop(
            "Directive (EU) 2024/1346 Art. 25(1): the assessment of special reception needs "
            "is completed within 30 days of the making of the application"
        ),
        "start_event": "submitted",
        "stop_event": "vulnerability_assessed",
        "duration": 30,
        "unit": "calendar_days",
        "roll_forward": True,
        "reminder_days": "7,3,1",
        "applies_from": APR_APPLIES_FROM,
    },
    {
        # DOMAIN.md §3 row 20: the value is from a press summary (not the official text),
        # a default an administrator can change.
        "code": "uam-representative-apr",
        "name": gettext_noop("Representative of an unaccompanied minor"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348: a representative for an unaccompanied minor within 15 "
            "days of the lodging of the application (press summary, not verified against the "
            "official text)"
        ),
        "start_event": "unaccompanied_minor",
        "stop_event": "representative_appointed",
        "duration": 15,
        "unit": "calendar_days",
        # Regulation 1182/71 Art. 3(4), as for the other periods of EU regulations.
        "roll_forward": True,
        "reminder_days": "7,3,1",
        "applies_from": APR_APPLIES_FROM,
    },
    {
        "code": "subsequent-preliminary-apr",
        "name": gettext_noop("Preliminary examination of a subsequent application"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 35(2): the preliminary examination of a "
            "subsequent application within 10 working days of lodging"
        ),
        "start_event": "lodged",
        "stop_event": "decided",
        "duration": 10,
        "unit": "working_days",
        "roll_forward": False,
        "reminder_days": "3,1",
        "procedures": "subsequent",
        "applies_from": APR_APPLIES_FROM,
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
        "reminder_days": "",
        "kind": "entitlement",
    },
    {
        "code": "detention-48h",
        "name": gettext_noop("Court order for detention beyond 48 hours"),
        "legal_source": gettext_noop(
            "Law on the Legal Status of Aliens: the State Border Guard Service may detain for up "
            "to 48 hours from the apprehension; longer only by a court decision (EUAA DIP, "
            "Detention – Lithuania)"
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
        # RCD 2013/33 Art. 9(5) asks for reviews "at reasonable intervals" without a number
        # (DOMAIN.md §3 row 16, ❌): one month is Haven's default, about twice the APR-era
        # limit below, so that a detention older than its last review never goes unnoticed
        # for long. Administrators change it here.
        "code": "detention-periodic-review",
        "name": gettext_noop("Periodic review of detention"),
        "legal_source": gettext_noop(
            "Directive 2013/33/EU Art. 9(5): review at reasonable intervals (one month: a "
            "default, not a number of the law)"
        ),
        "start_event": "detention_review",
        "stop_event": "detention_reviewed",
        "duration": 1,
        "unit": "months",
        "roll_forward": False,
        "reminder_days": "3,1",
        "applies_until": APR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "detention-periodic-review",
    },
    {
        "code": "detention-periodic-review-apr",
        "name": gettext_noop("Periodic review of detention (RCD 2024)"),
        "legal_source": gettext_noop(
            "Directive (EU) 2024/1346 Art. 11(3): ex officio review of administrative "
            "detention within 15 days (21 days in exceptional situations)"
        ),
        "start_event": "detention_review",
        "stop_event": "detention_reviewed",
        "duration": 15,
        "unit": "calendar_days",
        "roll_forward": False,
        "reminder_days": "3,1",
        "applies_from": APR_APPLIES_FROM,
        "family": "detention-periodic-review",
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
        "applies_until": APR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "appeal",
    },
    {
        "code": "appeal-window-apr",
        "name": gettext_noop("Appeal against the decision (APR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 67(7): 14 days from service of the decision "
            "(default within the range the Member State sets)"
        ),
        "start_event": "served",
        "stop_event": "appeal_lodged",
        "duration": 14,
        "unit": "calendar_days",
        "roll_forward": True,
        "reminder_days": "3,1",
        "applies_from": APR_APPLIES_FROM,
        "family": "appeal",
    },
    {
        "code": "appeal-window-apr-short",
        "name": gettext_noop("Appeal against an inadmissibility or discontinuation decision (APR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 67(7): 7 days from service for inadmissibility "
            "and implicit withdrawal (default within the range the Member State sets)"
        ),
        "start_event": "served",
        "stop_event": "appeal_lodged",
        "duration": 7,
        "unit": "calendar_days",
        "roll_forward": True,
        "reminder_days": "3,1",
        "applies_from": APR_APPLIES_FROM,
        "outcomes": "inadmissible,discontinued",
        "family": "appeal",
    },
    {
        "code": "appeal-window-apr-accelerated",
        "name": gettext_noop(
            "Appeal against a rejection in the accelerated or border procedure (APR)"
        ),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1348 Art. 67(7): 7 days from service for rejections in the "
            "accelerated or border procedure (default within the range the Member State sets)"
        ),
        "start_event": "served",
        "stop_event": "appeal_lodged",
        "duration": 7,
        "unit": "calendar_days",
        "roll_forward": True,
        "reminder_days": "3,1",
        "applies_from": APR_APPLIES_FROM,
        "procedures": "accelerated,border",
        "outcomes": "rejected,manifestly_unfounded",
        "family": "appeal",
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
    {
        "code": "dublin-transfer-appeal",
        "name": gettext_noop("Appeal against the Dublin transfer decision"),
        "legal_source": gettext_noop(
            "14 calendar days from service of the transfer decision (national practice, LVAT "
            "AS-520-846-12); Regulation (EU) 604/2013 Art. 27(2) leaves a reasonable period"
        ),
        "start_event": "transfer_decision_served",
        "stop_event": "transfer_appeal_lodged",
        "duration": 14,
        "unit": "calendar_days",
        "roll_forward": True,
        "reminder_days": "3,1",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_until": AMMR_APPLIES_FROM - dt.timedelta(days=1),
        "family": "dublin-transfer-appeal",
    },
    {
        "code": "dublin-transfer-appeal-ammr",
        "name": gettext_noop("Appeal against the Dublin transfer decision (AMMR)"),
        "legal_source": gettext_noop(
            "Regulation (EU) 2024/1351 Art. 43(2): 1 to 3 weeks after notification of the "
            "transfer decision (default 2 weeks within the range the Member State sets)"
        ),
        "start_event": "transfer_decision_served",
        "stop_event": "transfer_appeal_lodged",
        "duration": 14,
        "unit": "calendar_days",
        # Regulation 1182/71 Art. 3(4), as for the other periods of the AMMR.
        "roll_forward": True,
        "reminder_days": "3,1",
        "procedures": "dublin",
        "key_date": "registered",
        "applies_from": AMMR_APPLIES_FROM,
        "family": "dublin-transfer-appeal",
    },
    {
        "code": "further-appeal-window",
        "name": gettext_noop("Further appeal to the Supreme Administrative Court"),
        "legal_source": gettext_noop(
            "Supreme Administrative Court of Lithuania (lvat.lt): 30 days from the "
            "pronouncement of the first-instance judgment; a late appeal may be restored, "
            "not after 3 months (general rule; no asylum-specific term found)"
        ),
        "start_event": "judgment_pronounced",
        "stop_event": "further_appeal_lodged",
        "duration": 30,
        "unit": "calendar_days",
        # A last day on a weekend or public holiday moves to the next working day, as for
        # the appeal window of the national rules (Civil Code Art. 1.121).
        "roll_forward": True,
        "reminder_days": "7,1",
        "family": "further-appeal",
    },
]


# Values of the first defaults that the law as read on 2026-12-04 changed (DOMAIN.md §3,
# "How the clocks are read"): a rule still holding its old value is brought to the new one by
# `upgrade_default_rules`; a value an administrator chose is left alone.
SUPERSEDED_DEFAULTS: dict[str, dict] = {
    "registration-apr": {"roll_forward": False},
    "examination": {"applies_until": None},
    "right-to-work": {"kind": "deadline", "reminder_days": "14"},
    "appeal-window": {"applies_until": None},
    "detention-48h": {
        "legal_source": (
            "Law on the Legal Status of Aliens: the State Border Guard Service may detain for "
            "up to 48 hours; longer only by a court decision (EUAA DIP, Detention – Lithuania)"
        )
    },
}
# Fields added after the first defaults: set from the defaults on rules that still hold the
# field's default (a new column cannot carry an administrator's choice yet).
NEW_FIELDS = ("family", "key_date", "procedures", "outcomes")


def ensure_default_rules(rule_model=None) -> None:
    """Create every default rule whose code is missing (with the fields `rule_model` has,
    so that an early migration's model can call it)."""
    if rule_model is None:
        from .models import DeadlineRule

        rule_model = DeadlineRule
    fields = {f.name for f in rule_model._meta.get_fields()}
    for spec in DEFAULT_RULES:
        values = {k: v for k, v in spec.items() if k in fields}
        code = values.pop("code")
        rule_model.objects.get_or_create(code=code, defaults=values)


def upgrade_default_rules(rule_model=None) -> None:
    """Bring the default rules created before the 2026-12-04 review to the law as read then:
    a field still holding its first default takes the new one; new rules are created."""
    if rule_model is None:
        from .models import DeadlineRule

        rule_model = DeadlineRule
    specs = {spec["code"]: spec for spec in DEFAULT_RULES}
    for rule in rule_model.objects.filter(code__in=specs):
        spec = specs[rule.code]
        changed = []
        for name, old in SUPERSEDED_DEFAULTS.get(rule.code, {}).items():
            if getattr(rule, name) == old and spec.get(name, old) != old:
                setattr(rule, name, spec.get(name))
                changed.append(name)
        for name in NEW_FIELDS:
            if name in spec and getattr(rule, name) in ("", "made"):
                setattr(rule, name, spec[name])
                changed.append(name)
        if changed:
            rule.save(update_fields=changed)
    ensure_default_rules(rule_model)
