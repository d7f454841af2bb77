"""Role names. Roles are Django Groups; `cases.roles.ensure_roles` gives them permissions."""

from django.utils.translation import gettext_lazy as _

CASEWORKER = "caseworker"
DECISION_MAKER = "decision_maker"
ADMINISTRATOR = "administrator"

ALL = (CASEWORKER, DECISION_MAKER, ADMINISTRATOR)
LABELS = {
    CASEWORKER: _("Caseworker"),
    DECISION_MAKER: _("Decision-maker"),
    ADMINISTRATOR: _("Administrator"),
}
