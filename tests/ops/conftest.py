"""The broker and worker fixtures of the task tests, for the operational tests."""

from tests.cases.test_tasks import broker, run_worker, worker  # noqa: F401 - fixtures
