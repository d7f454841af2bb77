from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Asylum cases")

    def ready(self) -> None:
        # Registers the case permissions with `rules` before anything asks `has_perm`.
        from . import predicates, staff  # noqa: F401

        # The cached staff lists are rebuilt when a user or their groups change.
        staff.connect()
