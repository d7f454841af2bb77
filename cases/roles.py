"""The role groups and their model permissions, as an idempotent function.

Called by a data migration and again by the test suite (a transactional test flushes the
tables, data-migration rows included).
"""

from __future__ import annotations

from accounts import roles

# Model permissions per role. Which *cases* a user reaches is decided by `cases.access`
# (unit scoping); these only say which kinds of rows a role may read or write at all.
_CASE_MODELS = ("application", "applicant", "placement", "note", "document")
_READ_ONLY = ("caseevent", "deadline", "facility", "deadlinerule", "reminder")

ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    roles.CASEWORKER: [
        *[("cases", f"{verb}_{m}") for m in _CASE_MODELS for verb in ("view", "add", "change")],
        *[("cases", f"view_{m}") for m in _READ_ONLY],
        ("cases", "run_transitions"),
    ],
    roles.DECISION_MAKER: [
        *[("cases", f"{verb}_{m}") for m in _CASE_MODELS for verb in ("view", "add", "change")],
        *[("cases", f"view_{m}") for m in _READ_ONLY],
        ("cases", "change_deadline"),
        ("cases", "run_transitions"),
    ],
    roles.ADMINISTRATOR: [
        *[
            ("accounts", f"{verb}_{m}")
            for m in ("user", "unit")
            for verb in ("view", "add", "change")
        ],
        ("auth", "view_group"),
        *[
            ("cases", f"{verb}_{m}")
            for m in ("facility", "deadlinerule")
            for verb in ("view", "add", "change")
        ],
        *[("cases", f"view_{m}") for m in (*_CASE_MODELS, "caseevent", "deadline")],
        *[("cases", f"{verb}_reminder") for verb in ("view", "change")],
    ],
}


def ensure_roles(group_model=None, permission_model=None) -> None:
    """Create the role groups and give each exactly its permissions."""
    if group_model is None or permission_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    for name, perms in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=name)
        wanted = []
        for app_label, codename in perms:
            perm = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is None:
                raise LookupError(f"permission {app_label}.{codename} does not exist")
            wanted.append(perm)
        group.permissions.set(wanted)
