from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Asylum cases")

    def ready(self) -> None:
        # Registers the case permissions with `rules` before anything asks `has_perm`.
        from . import predicates, reference, staff  # noqa: F401

        # The cached staff lists and reference values are rebuilt when their rows change.
        staff.connect()
        reference.connect()
