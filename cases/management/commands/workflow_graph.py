"""Print the case state machine as Graphviz DOT, read from the model's declared transitions.

python manage.py workflow_graph | dot -Tsvg > workflow.svg
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cases.models import Application, Status


def workflow_dot() -> str:
    """DOT text for the `Application.status` graph: one edge per (source, transition)."""
    field = Application._meta.get_field("status")
    lines = [
        "digraph application_status {",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for status in Status:
        shape = ", peripheries=2" if status in (Status.CLOSED, Status.WITHDRAWN) else ""
        lines.append(f'  {status.value} [label="{status.label}"{shape}];')
    edges = sorted(
        {(str(t.source), str(t.target), t.name) for t in field.get_all_transitions(Application)}
    )
    for source, target, name in edges:
        lines.append(f'  {source} -> {target} [label="{name}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the application state machine as Graphviz DOT."

    def handle(self, *args, **options) -> None:
        self.stdout.write(workflow_dot(), ending="")
