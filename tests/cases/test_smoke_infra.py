from tests.conftest import submit


def test_it_submits_a_case(alice):
    case = submit(alice)
    assert case.status == "submitted"
    assert case.reference.startswith("LT-2023-")
