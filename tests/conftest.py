"""The tiny world the tests live in.

Unit "Asylum Division" has alice (caseworker) and dora (decision-maker); unit "Border
Division" has oscar (caseworker, an outsider to alice's cases); adam is an administrator;
root is a superuser. Cases are built by calling `cases.workflow`, never by setting `status`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from accounts import roles
from accounts.models import Unit, User
from cases import workflow
from cases.models import Facility
from cases.roles import ensure_roles
from cases.rule_defaults import ensure_default_rules
from cases.sensitive import ensure_default_sensitive_fields


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A page asked for by a Lithuanian-speaking user leaves Lithuanian active in the test's
    thread (the locale middleware activates it and nothing deactivates it), so a later test
    that calls the workflow directly read its messages in Lithuanian, depending on which
    tests ran before it in the same process. Each test ends in the default language."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Hundreds of users are created across the suite; production uses Argon2 (tested).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The test client's `force_login()`/`login()` sign in without a request from a browser; such
# sessions are given the second factor too (below), so that the hundreds of tests written
# about pages see them as a user who entered a code. The device is a real django-otp device
# (confirmed recovery codes without any code left), so the real OTPMiddleware verifies the
# session. Tests of the second factor itself mark themselves `password_only`.
VERIFIED_MARKER = "Test suite: verified session"


def give_second_factor(session, user) -> None:
    """Mark `session` (of signed-in `user`) as having passed the second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=VERIFIED_MARKER, defaults={"confirmed": True}
    )
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id


@pytest.fixture(autouse=True)
def _second_factor_for_test_client_logins(request):
    if request.node.get_closest_marker("password_only"):
        yield
        return
    from django.contrib.auth.signals import user_logged_in

    def verified(sender, request, user, **kwargs) -> None:
        # The test client's sign-in makes a bare HttpRequest (no server in its META);
        # requests of the test client or a browser to the sign-in page keep the real flow.
        if request is not None and "SERVER_NAME" not in request.META:
            give_second_factor(request.session, user)

    user_logged_in.connect(verified, dispatch_uid="tests-second-factor")
    yield
    user_logged_in.disconnect(dispatch_uid="tests-second-factor")


def totp_code(device) -> str:
    """The code an authenticator app shows for `device` now, or for the next 30 seconds when
    this one was already used (a code counts once; the device accepts one step of drift)."""
    import time

    from django_otp.oath import totp

    device.refresh_from_db()
    now = int((time.time() - device.t0) // device.step)
    drift = max(0, device.last_t + 1 - now)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):0{device.digits}d}"


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Role groups, default deadline rules and sensitive facts, which a transactional test's
    flush removes."""
    names = set(request.fixturenames)
    if request.node.get_closest_marker("django_db") or names & {"db", "transactional_db"}:
        request.getfixturevalue("_django_db_helper")
        ensure_roles()
        ensure_default_rules()
        ensure_default_sensitive_fields()


def make_user(username: str, role: str | None, unit: Unit | None, **extra) -> User:
    user = User.objects.create_user(
        username=username,
        password="correct horse battery staple",
        unit=unit,
        first_name=username.title(),
        email=f"{username}@example.test",
        **extra,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def unit(db) -> Unit:
    return Unit.objects.create(name="Asylum Division")


@pytest.fixture
def other_unit(db) -> Unit:
    return Unit.objects.create(name="Border Division")


@pytest.fixture
def alice(unit) -> User:
    return make_user("alice", roles.CASEWORKER, unit)


@pytest.fixture
def dora(unit) -> User:
    return make_user("dora", roles.DECISION_MAKER, unit)


@pytest.fixture
def oscar(other_unit) -> User:
    return make_user("oscar", roles.CASEWORKER, other_unit)


@pytest.fixture
def adam(db) -> User:
    return make_user("adam", roles.ADMINISTRATOR, None, is_staff=True)


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser(
        "root", "root@example.test", "correct horse battery staple"
    )


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Uploaded documents go to a folder of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


ROOT = Path(__file__).resolve().parent.parent


def run_python(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout=300, text=True
):
    """Run Haven's Python (`manage.py ...`, `-c ...`) in a child process from the checkout,
    as an operator would, and capture what it prints (as bytes with `text=False`)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=text,
        timeout=timeout,
        check=False,
    )


# ---- an S3-compatible store: moto's standalone server ------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[str]:
    """moto's S3 server (`python -m moto.server`) on a free port of 127.0.0.1, for the whole
    session (one per pytest-xdist worker); yields its endpoint URL. The tests start it
    themselves, here and in CI alike: nothing has to run beforehand."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        give_up = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > give_up:
                    raise RuntimeError(
                        f"moto's S3 server did not start: {log.read_text(errors='replace')}"
                    ) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclasses.dataclass
class S3:
    """A bucket of this test's own on the moto server, and how to reach it."""

    endpoint: str
    bucket: str
    region: str = "eu-north-1"
    key_id: str = "haven-test"
    secret: str = "haven-test-secret"  # noqa: S105 - moto accepts any

    @property
    def env(self) -> dict[str, str]:
        """The settings' environment variables for a Haven process using this bucket."""
        return {
            "S3_BUCKET": self.bucket,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": self.region,
            "S3_ACCESS_KEY_ID": self.key_id,
            "S3_SECRET_ACCESS_KEY": self.secret,
        }

    @property
    def options(self) -> dict:
        return {
            "bucket_name": self.bucket,
            "endpoint_url": self.endpoint,
            "region_name": self.region,
            "access_key": self.key_id,
            "secret_key": self.secret,
            "max_bytes": 20 * 1024 * 1024,
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
        )

    def keys(self) -> list[str]:
        """Every object's key in the bucket."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", ()))

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()


def make_bucket(endpoint: str) -> S3:
    s3 = S3(endpoint=endpoint, bucket=f"haven-test-{uuid.uuid4().hex[:12]}")
    s3.client().create_bucket(
        Bucket=s3.bucket, CreateBucketConfiguration={"LocationConstraint": s3.region}
    )
    return s3


@pytest.fixture
def s3_bucket(s3_server, settings) -> S3:
    """A new bucket on the S3 server, configured (S3_STORAGE_OPTIONS) but not the default
    storage: documents still go to MEDIA_ROOT, as before `move_documents --to s3`."""
    bucket = make_bucket(s3_server)
    settings.S3_BUCKET = bucket.bucket
    settings.S3_STORAGE_OPTIONS = bucket.options
    return bucket


def use_s3(settings, bucket: S3) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "haven.storage.DocumentStorage", "OPTIONS": bucket.options},
    }


def use_local(settings) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


@pytest.fixture
def s3(s3_bucket, settings, tmp_path) -> S3:
    """Documents go to a new bucket on the S3 server (as with S3_BUCKET set); MEDIA_ROOT is a
    folder of this test's own that must stay empty."""
    bucket = s3_bucket
    settings.MEDIA_ROOT = tmp_path / "media-unused"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "haven.storage.DocumentStorage", "OPTIONS": bucket.options},
    }
    return bucket


def stored_files(media: Path) -> list[Path]:
    """The files stored under a test's media folder."""
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.fixture
def pabrade(db) -> Facility:
    return Facility.objects.create(
        name="Foreigners' Registration Centre, Pabradė",
        code="frc-pabrade",
        kind=Facility.Kind.DETENTION,
        operator="State Border Guard Service",
        capacity=3,
    )


@pytest.fixture
def rukla(db) -> Facility:
    return Facility.objects.create(
        name="Reception centre, Rukla", code="rukla", kind=Facility.Kind.RECEPTION, capacity=50
    )


def submit(actor: User, *, family_name="Korolev", given_names="Ivan", submitted_on=None, **extra):
    return workflow.submit_application(
        actor=actor,
        applicant_data={
            "family_name": family_name,
            "given_names": given_names,
            "name_original": extra.pop("name_original", "Иван Королёв"),
            "nationality": extra.pop("nationality", "RU"),
        },
        submitted_on=submitted_on or dt.date(2023, 8, 11),
        **extra,
    )


def decide(
    case, caseworker: User, decider: User, *, outcome="rejected", decided_on, served_on=None
):
    """Record an interview (1 September 2023) and decide the case from the status it is in."""
    workflow.record_interview(case, actor=caseworker, interviewed_on=dt.date(2023, 9, 1))
    case.refresh_from_db()
    return workflow.decide(
        case,
        actor=decider,
        expected_status=case.status,
        reason="Assessed",
        outcome=outcome,
        decided_on=decided_on,
        served_on=served_on,
    )


@pytest.fixture
def case(alice):
    """A freshly submitted case of alice's unit."""
    return submit(alice)


@pytest.fixture
def build_case(alice, dora, pabrade):
    """Builds a case in any status through the real workflow."""

    def build(status: str):
        c = submit(alice)
        if status == "submitted":
            return c
        if status == "withdrawn":
            return workflow.withdraw(
                c, actor=alice, expected_status="submitted", reason="Left", kind="explicit"
            )
        c = workflow.start_examination(c, actor=alice, expected_status="submitted", reason="Go")
        if status == "examination":
            return c
        if status == "detention":
            return workflow.detain(
                c,
                actor=alice,
                expected_status="examination",
                reason="Risk of absconding",
                facility=pabrade,
                legal_basis="Law on the Legal Status of Aliens Art. 113",
                order_reference="SBGS-1",
            )
        workflow.record_interview(c, actor=alice, interviewed_on=dt.date(2023, 9, 1))
        c = workflow.decide(
            c,
            actor=dora,
            expected_status="examination",
            reason="Assessed",
            outcome="rejected",
            decided_on=dt.date(2024, 1, 10),
            served_on=dt.date(2024, 1, 12),
        )
        if status == "decided":
            return c
        c = workflow.appeal(
            c,
            actor=alice,
            expected_status="decided",
            reason="Appeal lodged",
            court="Regional Administrative Court",
            lodged_on=dt.date(2024, 1, 20),
        )
        if status == "appealed":
            return c
        if status == "closed":
            workflow.record_judgment(
                c, actor=alice, judgment_on=dt.date(2024, 6, 1), outcome="upheld"
            )
            return workflow.close(c, actor=dora, expected_status="appealed", reason="Final")
        raise ValueError(status)

    return build


def on_duty(officer):
    """Make `officer` their unit's duty officer: reminders of unassigned cases go to them."""
    unit = officer.unit
    unit.duty_officer = officer
    unit.save(update_fields=["duty_officer"])
    return officer
