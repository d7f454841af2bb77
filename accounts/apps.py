from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from haven.middleware import mark_sign_in

        user_logged_in.connect(mark_sign_in, dispatch_uid="haven-session-mark-sign-in")
        # The session index of the "Sessions" page (accounts.sessions).
        user_logged_in.connect(_record_sign_in, dispatch_uid="haven-session-record")
        user_logged_out.connect(_record_sign_out, dispatch_uid="haven-session-forget")


def _record_sign_in(sender, request, user, **kwargs) -> None:
    from . import mfa, sessions

    if request is not None:
        sessions.record_sign_in(request, user)
        mfa.password_sign_in_complete(request, user)


def _record_sign_out(sender, request, user, **kwargs) -> None:
    from . import sessions

    if request is not None:
        sessions.record_sign_out(request, user)
