"""The benchmark's signed-in clients: a real database session, made as a sign-in makes it
(`force_login`), that has also passed the second factor, as every staff session with
`DEBUG` off must (accounts.middleware.SecondFactorMiddleware). The device is a real,
confirmed django-otp device without codes, so the real OTPMiddleware verifies the session on
each request, at the cost it has in production."""

from __future__ import annotations

from django.test import Client

BENCH_DEVICE = "Benchmark: verified session"


def verify_session(client: Client, user) -> None:
    """Mark `client`'s session (signed in as `user`) as having passed the second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=BENCH_DEVICE, defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def signed_in_client(user, **kwargs) -> Client:
    """A test client signed in as `user`, past the second factor."""
    client = Client(**kwargs)
    client.force_login(user)
    verify_session(client, user)
    return client
