"""The offices and places that synthetic cases belong to: units, their staff, facilities.

Small and reused: a second run finds the units, facilities and staff of the first by name
(everything is named "SYN ..." or `syn-...`) and adds staff only where the larger count of
cases needs more. Written through the ORM; only the cases themselves go by COPY.
"""

from __future__ import annotations

import random
from collections import Counter

from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator
from django.db import models

from accounts import roles
from accounts.models import Unit, User
from cases.models import Facility, Placement

from .names import STAFF_FAMILY, STAFF_GIVEN

# (name, share of the cases): the first is clearly the largest.
UNITS: tuple[tuple[str, float], ...] = (
    ("SYN Migration Department, Asylum Division", 0.50),
    ("SYN Migration Department, Vilnius Office", 0.20),
    ("SYN State Border Guard Service, Pabradė Frontier Station", 0.15),
    ("SYN State Border Guard Service, Vilnius Frontier District", 0.10),
    ("SYN Migration Department, Kaunas Office", 0.05),
)

_KIND = Facility.Kind
# (code, name, kind, operator, address, share of placements of its kind)
FACILITIES: tuple[tuple[str, str, str, str, str, float], ...] = (
    ("syn-frc-pabrade", "SYN Foreigners' Registration Centre, Pabradė", _KIND.DETENTION,
     "State Border Guard Service", "Vilniaus g. 100, Pabradė", 0.45),
    ("syn-frc-kybartai", "SYN Foreigners' Registration Centre, Kybartai", _KIND.DETENTION,
     "State Border Guard Service", "Kybartai", 0.25),
    ("syn-medininkai", "SYN Medininkai Frontier Station holding unit", _KIND.DETENTION,
     "State Border Guard Service", "Medininkai", 0.10),
    ("syn-alytus", "SYN Alytus Accommodation Centre", _KIND.MIXED,
     "State Border Guard Service", "Alytus", 0.20),
    ("syn-rukla", "SYN Refugee Reception Centre, Rukla", _KIND.RECEPTION,
     "Migration Department", "Rukla, Jonava district", 0.40),
    ("syn-naujininkai", "SYN Refugee Reception Centre, Naujininkai", _KIND.RECEPTION,
     "Migration Department", "Vilnius", 0.30),
    ("syn-jieznas", "SYN Reception Centre, Jieznas", _KIND.RECEPTION,
     "Migration Department", "Jieznas", 0.15),
    ("syn-kaunas", "SYN Kaunas Accommodation Centre", _KIND.MIXED,
     "Migration Department", "Kaunas", 0.15),
)  # fmt: skip
# Which kinds of facility take people under each use.
_TAKES = {
    _KIND.DETENTION: (_KIND.DETENTION, _KIND.MIXED),
    _KIND.RECEPTION: (_KIND.RECEPTION, _KIND.MIXED),
}
_MAX_CAPACITY = next(
    v.limit_value
    for v in Facility._meta.get_field("capacity").validators
    if isinstance(v, MaxValueValidator)
)


class World:
    """Units (with their share of the cases), their caseworkers and decision-makers, the
    facilities by use, and how many people each facility holds now."""

    def __init__(self, count: int, rng: random.Random) -> None:
        """Find or create what `count` more cases need; staff grows with the cases (one
        caseworker per 250 cases of the unit, one decision-maker per six caseworkers)."""
        self.rng = rng
        self.new_users = 0
        self.units = [(Unit.objects.get_or_create(name=name)[0], share) for name, share in UNITS]
        self.facilities: dict[str, list[tuple[int, float]]] = {use: [] for use in _TAKES}
        self.facility_rows: dict[int, Facility] = {}
        for code, name, kind, operator, address, share in FACILITIES:
            facility = Facility.objects.filter(code=code).first()
            if facility is None:
                facility = Facility.objects.create(
                    code=code, name=name, kind=kind, operator=operator, address=address, capacity=10
                )
            self.facility_rows[facility.pk] = facility
            for use, kinds in _TAKES.items():
                if kind in kinds:
                    self.facilities[use].append((facility.pk, share))
        self.occupancy: Counter = Counter(
            dict(
                Placement.objects.current()
                .values_list("facility_id")
                .annotate(n=models.Count("pk"))
            )
        )
        groups = {g.name: g for g in Group.objects.filter(name__in=roles.ALL)}
        self.caseworkers: dict[int, list[int]] = {}
        self.deciders: dict[int, list[int]] = {}
        for unit, share in self.units:
            n_workers = max(2, min(400, round(count * share / 250)))
            self.caseworkers[unit.pk] = self._staff(unit, "cw", n_workers, groups[roles.CASEWORKER])
            self.deciders[unit.pk] = self._staff(
                unit, "dm", max(1, n_workers // 6), groups[roles.DECISION_MAKER]
            )

    def _staff(self, unit: Unit, kind: str, wanted: int, group: Group) -> list[int]:
        """The unit's synthetic staff of one role: existing ones, plus new ones up to
        `wanted` (usernames `syn-u<unit>-<kind>-<n>`, unusable passwords)."""
        prefix = f"syn-u{unit.pk}-{kind}-"
        existing = list(
            User.objects.filter(username__startswith=prefix)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        new = []
        for n in range(len(existing) + 1, wanted + 1):
            username = f"{prefix}{n:03d}"
            new.append(
                User(
                    username=username,
                    password="!synthetic",  # noqa: S106 - unusable: no one signs in as a synthetic user
                    first_name=self.rng.choice(STAFF_GIVEN),
                    last_name=self.rng.choice(STAFF_FAMILY),
                    email=f"{username}@synthetic.invalid",
                    unit=unit,
                )
            )
        if new:
            User.objects.bulk_create(new)
            created = list(User.objects.filter(username__in=[u.username for u in new]))
            group.user_set.add(*created)
            self.new_users += len(created)
            existing += [u.pk for u in created]
        return existing

    def pick_unit(self) -> Unit:
        units = self.units
        return self.rng.choices([u for u, _s in units], [s for _u, s in units])[0]

    def pick_facility(self, use: str) -> int:
        """A facility for `use` (detention or reception), by the shares of `FACILITIES`."""
        choices = self.facilities[use]
        return self.rng.choices([c[0] for c in choices], [c[1] for c in choices])[0]

    def fit_capacities(self) -> None:
        """Capacities that hold the generated occupancy with some room to spare."""
        for pk, facility in self.facility_rows.items():
            wanted = max(10, int(self.occupancy.get(pk, 0) * 1.15) + 5)
            if facility.capacity < wanted:
                Facility.objects.filter(pk=pk).update(capacity=min(wanted, _MAX_CAPACITY))
