"""The plan of one synthetic case, drawn before its story is told: the status it ends in,
how long each of its steps takes, how long ago it was made.

Step durations say how people act: most applications are lodged within days, most
decisions come within the examination period, most appeals within the window, some late.
Whether a deadline is then met or missed is for the rules in force to say (`casefile`).
"""

from __future__ import annotations

import dataclasses
import random

from cases.models import Status

# The status each case ends in, by share of the cases.
STATUS_WEIGHTS = (
    (Status.SUBMITTED, 0.07),
    (Status.EXAMINATION, 0.33),
    (Status.DETENTION, 0.07),
    (Status.DECIDED, 0.13),
    (Status.APPEALED, 0.10),
    (Status.CLOSED, 0.20),
    (Status.WITHDRAWN, 0.10),
)
# Statuses that a case reaches only through a decision; those that may pass by a court.
DECIDED = (Status.DECIDED, Status.APPEALED, Status.CLOSED)
MAY_GO_TO_COURT = (Status.APPEALED, Status.CLOSED)
_WITHDRAWN_FROM = (Status.SUBMITTED, Status.EXAMINATION, Status.DETENTION)


@dataclasses.dataclass(frozen=True)
class Plan:
    """What will happen to one case, drawn before it starts. Durations are days."""

    target: str  # the status it ends in
    via: str  # for a withdrawn case: the status it is withdrawn from
    detained_now: bool
    past_detention: bool  # detained once, then released
    lodge: int
    start_exam: int
    detain_after: int
    release_after: int
    decide_after: int
    serve_after: int
    appeal_after: int
    judgment_after: int
    age: int  # how long ago the application was made

    @classmethod
    def draw(cls, rng: random.Random, *, long: bool, forced: str | None) -> Plan:
        """The long case stays under examination; `forced` is the status to end in."""
        target = (
            Status.EXAMINATION
            if long
            else forced
            or rng.choices([s for s, _w in STATUS_WEIGHTS], [w for _s, w in STATUS_WEIGHTS])[0]
        )
        via = ""
        if target == Status.WITHDRAWN:
            via = rng.choices(_WITHDRAWN_FROM, [3, 5, 2])[0]
        detained_now = Status.DETENTION in (target, via)
        past_detention = (
            not detained_now
            and target in (Status.EXAMINATION, *DECIDED)
            and rng.random() < 0.12
            and not forced
        )
        lodge = rng.choices([0, 1, 2, 3, 4, 6, 9], [30, 25, 15, 12, 8, 6, 4])[0]
        start_exam = rng.randint(1, 20)
        detain_after = rng.randint(0, 10)
        release_after = rng.randint(20, 200)
        decide_after = rng.randint(45, 230)
        serve_after = rng.choice([0, 0, 1, 2, 3, 5, 8])
        appeal_after = rng.choices([3, 7, 10, 13, 14, 18], [10, 25, 25, 20, 10, 3])[0]
        judgment_after = rng.randint(60, 300)
        detention_days = start_exam + detain_after + release_after
        if target == Status.SUBMITTED:
            age = rng.choices([rng.randint(0, 7), rng.randint(8, 40)], [85, 15])[0]
        elif target == Status.EXAMINATION and not past_detention:
            age = start_exam + rng.randint(0, 240)
        elif target == Status.EXAMINATION:
            age = detention_days + rng.randint(0, 60)
        elif target == Status.DETENTION:
            age = detain_after + 2 + rng.randint(0, 160)
        elif target == Status.WITHDRAWN:
            age = rng.randint(10, 1000)
        else:
            age = decide_after + rng.randint(0, 30)
            if past_detention:
                age = max(age, detention_days + 15)
            if target in MAY_GO_TO_COURT:
                age += serve_after + appeal_after + rng.randint(0, 200)
            if target == Status.CLOSED:
                age += judgment_after + rng.randint(0, 700) + (90 if forced else 0)
        return cls(
            target=target,
            via=via,
            detained_now=detained_now,
            past_detention=past_detention,
            lodge=lodge,
            start_exam=start_exam,
            detain_after=detain_after,
            release_after=release_after,
            decide_after=decide_after,
            serve_after=serve_after,
            appeal_after=appeal_after,
            judgment_after=judgment_after,
            age=age,
        )
