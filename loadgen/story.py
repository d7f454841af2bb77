"""The story of one synthetic case: which states it passes through, on which days, and what
happens on the way (placements, court orders, interviews, service, appeals, notes).

Each case draws its `Plan`, then plays it out on a `CaseFile`, which records every step as
the workflow would. The court's order after a detention comes mostly within the 48 hours,
some late; whether a deadline is met or missed is for the rules in force to say.
"""

from __future__ import annotations

import datetime as dt

from cases.deadlines import (
    VILNIUS,
    at_noon,
    day_moment,
    deprivation_start,
    entry_moment,
    local_date,
)
from cases.models import Appeal, Application, DeadlineRule, Facility, Placement, Status

from .casefile import CaseFile, Run
from .names import pick_person
from .plan import DECIDED, MAY_GO_TO_COURT, Plan
from .world import World

LONG_CASE_EVENTS = 200
MIN_EVENTS = 5
MAX_EVENTS = 50
SYNTHETIC_MARK = "Synthetic case generated for load testing; not a real person."

_OUTCOME = Application.Outcome
OUTCOMES = ((_OUTCOME.REJECTED, 0.5), (_OUTCOME.SUBSIDIARY_PROTECTION, 0.2),
            (_OUTCOME.REFUGEE_STATUS, 0.2), (_OUTCOME.INADMISSIBLE, 0.1))  # fmt: skip
_GROUND = Application.Ground
GROUNDS = (_GROUND.POLITICAL_OPINION, _GROUND.RELIGION, _GROUND.NATIONALITY,
           _GROUND.SOCIAL_GROUP, _GROUND.RACE, _GROUND.SERIOUS_HARM)  # fmt: skip
_PROCEDURE = Application.Procedure
PROCEDURES = ((_PROCEDURE.REGULAR, 70), (_PROCEDURE.ACCELERATED, 12),
              (_PROCEDURE.BORDER, 12), (_PROCEDURE.DUBLIN, 6))  # fmt: skip
COURTS = ("Regional Administrative Court, Vilnius", "Regional Administrative Court, Kaunas")
DETENTION_COURTS = ("Vilnius District Court", "Švenčionys District Court", "Alytus District Court")
RECEPTION_BASIS = "Accommodation at a reception centre"
DETENTION_BASIS = "Law on the Legal Status of Aliens Art. 113(4)"
WORKING_DAY_STARTS = dt.time(8, 0)

_START = DeadlineRule.StartEvent
_STOP = DeadlineRule.StopEvent
_DAY = dt.timedelta(days=1)


def tell(run: Run, world: World, *, long: bool, forced: str | None) -> CaseFile:
    """One case's story, written into a new `CaseFile`. The long case (exactly
    `LONG_CASE_EVENTS` events) is under examination in the largest unit; `forced` makes the
    case end in that status."""
    return _Teller(run, world, long=long, forced=forced).tell()


class _Teller:
    """Plays one plan out, step by step, keeping `t`: the moment of the latest step."""

    def __init__(self, run: Run, world: World, *, long: bool, forced: str | None) -> None:
        rng = self.rng = run.rng
        self.run = run
        self.world = world
        self.long = long
        self.unit = world.units[0][0] if long else world.pick_unit()
        self.workers = world.caseworkers[self.unit.pk]
        self.deciders = world.deciders[self.unit.pk]
        self.plan = Plan.draw(rng, long=long, forced=forced)
        self.today = run.today
        submitted_on = self.today - dt.timedelta(days=self.plan.age)
        self.case = CaseFile(run, submitted_on, pick_person(rng, self.today))
        self.actor = rng.choice(self.workers)
        self.t: dt.datetime = run.now

    def moment(self, on: dt.date, earliest: dt.datetime | None = None) -> dt.datetime:
        """A working-hours moment on day `on`, never before `earliest` nor after now."""
        rng = self.rng
        at = dt.datetime.combine(on, WORKING_DAY_STARTS, tzinfo=VILNIUS).astimezone(dt.UTC)
        at += dt.timedelta(seconds=rng.randint(0, 9 * 3600), microseconds=rng.randint(0, 999_999))
        if earliest is not None and at <= earliest:
            at = earliest + dt.timedelta(minutes=rng.randint(1, 90))
        return min(at, self.run.now - dt.timedelta(seconds=1))

    def tell(self) -> CaseFile:
        plan, rng, case = self.plan, self.rng, self.case
        self.submit()
        if plan.detained_now and plan.via in ("", Status.DETENTION) and rng.random() < 0.4:
            self.detain(case.submitted_on + dt.timedelta(days=plan.detain_after))
        elif plan.target != Status.SUBMITTED and plan.via != Status.SUBMITTED:
            self.examine()
        decided = plan.target in DECIDED
        if decided or (
            plan.target in (Status.EXAMINATION, Status.DETENTION) and rng.random() < 0.4
        ):
            self.interview()
        if decided:
            self.decide_and_after()
        if plan.target == Status.WITHDRAWN:
            self.withdraw()
        self.add_notes()
        self.choose_grounds()
        return case

    # -- the steps ---------------------------------------------------------------------------------

    def submit(self) -> None:
        """Made, perhaps lodged, mostly placed at a reception centre."""
        plan, rng, case, actor = self.plan, self.rng, self.case, self.actor
        submitted_on = case.submitted_on
        procedure = rng.choices([p for p, _w in PROCEDURES], [w for _p, w in PROCEDURES])[0]
        at_border = procedure == _PROCEDURE.BORDER or plan.detained_now or plan.past_detention
        apprehended_on = submitted_on - dt.timedelta(days=rng.randint(0, 2)) if at_border else None
        entered_on = submitted_on - dt.timedelta(days=rng.randint(0, 30))
        lodged_on = submitted_on + dt.timedelta(days=plan.lodge)
        if lodged_on > self.today or (plan.target == Status.SUBMITTED and rng.random() < 0.25):
            lodged_on = None
        case.application.update(
            apprehended_on=apprehended_on,
            entered_on=entered_on,
            lodged_on=lodged_on,
            procedure=procedure,
            unit_id=self.unit.pk,
            assigned_to_id=None,
        )
        self.t = self.moment(submitted_on)
        case.submit(actor, self.t)
        case.open_deadlines(_START.SUBMITTED, self.t, actor)
        if lodged_on:
            case.meet(_STOP.LODGED, max(at_noon(lodged_on), self.t), actor)
        if rng.random() < 0.85 and not (plan.detained_now and plan.detain_after == 0):
            facility = self.world.pick_facility(Facility.Kind.RECEPTION)
            regime = (
                Placement.Regime.RESTRICTED
                if rng.random() < 0.06
                else Placement.Regime.ACCOMMODATION
            )
            self.t = self.moment(submitted_on + dt.timedelta(days=rng.randint(0, 2)), self.t)
            case.place(facility, regime, self.t, actor, legal_basis=RECEPTION_BASIS)

    def examine(self) -> None:
        """Examination starts (mostly assigned); detention now or for a while; reassignment."""
        plan, rng, case, actor = self.plan, self.rng, self.case, self.actor
        started_on = case.submitted_on + dt.timedelta(days=plan.start_exam)
        self.t = self.moment(min(started_on, self.today), self.t)
        assignee = rng.choice(self.workers) if rng.random() < 0.95 else None
        case.transition("start_examination", actor, self.t, assignee=assignee)
        if case.application["lodged_on"] is None:
            # As `cases.workflow.start_examination`: examined means lodged, on that day.
            case.application["lodged_on"] = max(local_date(self.t), case.submitted_on)
            case.meet(_STOP.LODGED, self.t, actor)
        if plan.detained_now or plan.past_detention:
            self.detain(started_on + dt.timedelta(days=plan.detain_after))
        if plan.past_detention:
            self.t = self.moment(local_date(self.t) + dt.timedelta(days=plan.release_after), self.t)
            reason = case.transition("release", actor, self.t)
            case.end_placement(self.t, actor, reason)
            if rng.random() < 0.8:
                case.place(
                    self.world.pick_facility(Facility.Kind.RECEPTION),
                    Placement.Regime.ACCOMMODATION,
                    self.t,
                    actor,
                    legal_basis=RECEPTION_BASIS,
                )
        if assignee is not None and rng.random() < 0.1:
            self.t = self.moment(local_date(self.t) + dt.timedelta(days=rng.randint(1, 30)), self.t)
            reassigned, decider = rng.choice(self.workers), rng.choice(self.deciders)
            if reassigned != assignee:  # as `cases.workflow.assign`: no change, no event
                assignee = reassigned
                case.record("assigned", decider, self.t, assignee=assignee)
        case.application["assigned_to_id"] = assignee

    def detain(self, on: dt.date) -> None:
        """Detained (as `cases.workflow.detain`: the 48-hour clock runs from the deprivation
        of liberty, the cap from entry), then the court's order, mostly in time."""
        rng, case, actor = self.rng, self.case, self.actor
        self.t = self.moment(max(on, local_date(self.t)), self.t)
        case.transition("detain", actor, self.t)
        if case.current_placement is not None:
            case.end_placement(self.t, actor, "Moved to detention.")
        placement = case.place(
            self.world.pick_facility(Facility.Kind.DETENTION),
            Placement.Regime.DETENTION,
            self.t,
            actor,
            legal_basis=DETENTION_BASIS,
            ordering_authority="State Border Guard Service",
            order_reference=f"SYN-DET-{case.id}",
        )
        facts = case.application
        detained_at = self.t
        deprived_at = deprivation_start(
            facts["apprehended_on"],
            detained_at,
            lambda: any(
                row["starts_at"] < detained_at
                for pk, row in case.placements.items()
                if pk != placement
            ),
        )
        case.open_deadlines(_START.DETAINED, deprived_at, actor, placement=placement, at=self.t)
        if not any(rule.start_event == _START.ENTERED for _pk, rule in case.running()):
            entered = entry_moment(
                Application(
                    entered_on=facts["entered_on"],
                    apprehended_on=facts["apprehended_on"],
                    submitted_on=case.submitted_on,
                )
            )
            case.open_deadlines(_START.ENTERED, entered, actor, placement=placement, at=self.t)
        hours = rng.choices([20, 30, 44, 60], [30, 40, 22, 8])[0]
        order_at = self.t + dt.timedelta(hours=hours, minutes=rng.randint(0, 59))
        if order_at >= self.run.now:
            return
        order_on = local_date(order_at)
        until = order_on + dt.timedelta(days=rng.choice([30, 60, 90, 180]))
        case.placements[placement].update(
            court_name=rng.choice(DETENTION_COURTS),
            court_case_number=f"SYN-eI2-{case.id}/{order_on.year}",
            court_order_on=order_on,
            court_order_until=until,
            review_due=until,
        )
        case.record(
            "court_order",
            actor,
            order_at,
            placement=placement,
            order_on=order_on.isoformat(),
            until=until.isoformat(),
        )
        case.meet(_STOP.COURT_ORDER, day_moment(order_on, order_at), actor)
        case.open_deadlines(
            _START.COURT_ORDER_UNTIL, at_noon(until), actor, placement=placement, at=order_at
        )
        self.t = order_at

    def interview(self) -> None:
        """The personal interview, or (rarely) the reason it was waived."""
        rng, case, actor = self.rng, self.case, self.actor
        interview_on = min(local_date(self.t) + dt.timedelta(days=rng.randint(5, 40)), self.today)
        self.t = self.moment(interview_on, self.t)
        if rng.random() < 0.05:
            waiver = "The applicant is unfit for interview (medical certificate)."
            case.application["interview_waiver_reason"] = waiver
            case.record("interview_recorded", actor, self.t, reason=waiver, interviewed_on=None)
        else:
            held_on = local_date(self.t)
            case.application["interviewed_on"] = held_on
            case.record("interview_recorded", actor, self.t, interviewed_on=held_on.isoformat())

    def decide_and_after(self) -> None:
        """Decided; served; perhaps appealed and judged; closed once the decision is final."""
        plan, rng, case, actor = self.plan, self.rng, self.case, self.actor
        fields = case.application
        decided_on = max(
            case.submitted_on + dt.timedelta(days=plan.decide_after), local_date(self.t)
        )
        decided_on = min(decided_on, self.today)
        outcome = rng.choices([o for o, _w in OUTCOMES], [w for _o, w in OUTCOMES])[0]
        if plan.target in MAY_GO_TO_COURT and outcome != _OUTCOME.INADMISSIBLE:
            outcome = _OUTCOME.REJECTED
        served_on = decided_on + dt.timedelta(days=plan.serve_after)
        serve_now = served_on <= self.today and (
            plan.target != Status.DECIDED or rng.random() < 0.85
        )
        self.t = self.moment(decided_on, self.t)
        decider = rng.choice(self.deciders)
        served_with_decision = serve_now and plan.serve_after == 0
        case.transition(
            "decide",
            decider,
            self.t,
            outcome=outcome,
            decided_on=decided_on.isoformat(),
            served_on=served_on.isoformat() if served_with_decision else None,
        )
        fields.update(decision_outcome=outcome, decided_on=decided_on)
        case.meet(_STOP.DECIDED, day_moment(decided_on, self.t), decider)
        if serve_now:
            fields["served_on"] = served_on
            if not served_with_decision:
                self.t = self.moment(served_on, self.t)
                case.record("served", actor, self.t, served_on=served_on.isoformat())
            case.open_deadlines(
                _START.SERVED, at_noon(served_on), decider if served_with_decision else actor
            )
        if plan.target not in MAY_GO_TO_COURT or not fields.get("served_on"):
            return
        if plan.target == Status.APPEALED or rng.random() < 0.6:
            self.appeal(served_on)
        if plan.target == Status.CLOSED:
            self.close_if_final()
        # A case that could not be closed honestly (its window still open) stays decided.

    def appeal(self, served_on: dt.date) -> None:
        plan, rng, case, actor = self.plan, self.rng, self.case, self.actor
        lodged = min(served_on + dt.timedelta(days=plan.appeal_after), self.today)
        self.t = self.moment(lodged, self.t)
        court = rng.choice(COURTS)
        case.transition(
            "appeal", actor, self.t, lodged_on=lodged.isoformat(), suspensive_effect="automatic"
        )
        appeal = {
            "id": self.run.ids.take(Appeal),
            "subject": Appeal.Subject.ASYLUM_DECISION,
            "level": Appeal.Level.FIRST,
            "court": court,
            "lodged_on": lodged,
            "suspensive_effect": Appeal.Suspensive.AUTOMATIC,
            "created_at": self.t,
        }
        case.appeals.append(appeal)
        case.meet(_STOP.APPEAL_LODGED, at_noon(lodged), actor)
        judged = plan.target == Status.CLOSED or rng.random() < 0.3
        judgment_on = lodged + dt.timedelta(days=plan.judgment_after)
        if judged and judgment_on < self.today:
            self.t = self.moment(judgment_on, self.t)
            appeal.update(judgment_on=judgment_on, outcome=Appeal.Outcome.UPHELD)
            case.record(
                "judgment",
                actor,
                self.t,
                appeal=appeal["id"],
                level=Appeal.Level.FIRST,
                subject=Appeal.Subject.ASYLUM_DECISION,
                judgment_on=judgment_on.isoformat(),
                outcome=Appeal.Outcome.UPHELD,
            )
            case.open_deadlines(_START.JUDGMENT_PRONOUNCED, at_noon(judgment_on), actor)

    def close_if_final(self) -> None:
        """Closed as the model allows it: a final judgment, or the appeal window passed."""
        rng, case = self.rng, self.case
        judged = case.appeals and case.appeals[-1].get("judgment_on")
        window = case.due_last(_START.JUDGMENT_PRONOUNCED if judged else _START.SERVED)
        if not (window and window["due_at"] < self.run.now) and not (judged and window is None):
            return
        close_on = local_date(self.t) + dt.timedelta(days=rng.randint(1, 30))
        if window:
            close_on = max(close_on, local_date(window["due_at"]) + _DAY)
        self.t = self.moment(min(close_on, self.today), self.t)
        decider = rng.choice(self.deciders)
        case.transition("close", decider, self.t)
        case.end_placement(self.t, decider, "Case closed.")
        case.cancel_open(self.t, decider)

    def withdraw(self) -> None:
        """Withdrawn (as `cases.workflow.withdraw`): placement ended, clocks cancelled."""
        rng, case, actor = self.rng, self.case, self.actor
        day = local_date(self.t)
        on = max(day + dt.timedelta(days=rng.randint(3, 120)), day)
        self.t = self.moment(min(on, self.today), self.t)
        kind = rng.choice(Application.Withdrawal.values)
        case.transition("withdraw", actor, self.t, kind=kind)
        case.application["withdrawal"] = kind
        case.end_placement(self.t, actor, "Application withdrawn.")
        case.cancel_open(self.t, actor)

    # -- what fills the file ----------------------------------------------------------------------

    def add_notes(self) -> None:
        """Notes spread over the case's life, up to the wanted number of events."""
        rng, case = self.rng, self.case
        if self.long:
            wanted = LONG_CASE_EVENTS
        else:
            wanted = len(case.events) + min(int(rng.expovariate(1 / 3)), 25)
            wanted = max(MIN_EVENTS, min(MAX_EVENTS, wanted))
        first = case.events[0].at
        span = max((self.run.now - first).total_seconds() - 60, 1)
        if case.status in (Status.CLOSED, Status.WITHDRAWN):
            span = max((self.t - first).total_seconds(), 1)
        while len(case.events) < wanted:
            offset = rng.random() * span
            case.note(rng.choice(self.workers), first + dt.timedelta(seconds=offset))

    def choose_grounds(self) -> None:
        rng = self.rng
        grounds = [_GROUND.MILITARY_SERVICE] if rng.random() < 0.15 else []
        grounds += rng.sample(GROUNDS, rng.choice([1, 1, 2]))
        self.case.application["grounds"] = grounds
