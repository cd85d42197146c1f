"""A demonstrated error must happen: `kd.expect_error` keeps it, and fails when it no longer occurs."""
import pytest

import kdcourse as kd


def test_the_expected_error_is_caught_and_kept():
    with kd.expect_error(KeyError) as caught:
        {}["missing"]
    assert isinstance(caught.error, KeyError) and "missing" in str(caught.error)


def test_a_demonstration_whose_error_stopped_happening_fails():
    with pytest.raises(AssertionError, match="expected a ValueError, and nothing was raised"):
        with kd.expect_error(ValueError):
            int("3")  # fixed: no error any more


def test_an_error_of_another_kind_is_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        with kd.expect_error((KeyError, IndexError)):
            1 / 0


def test_the_report_wraps_a_long_message_for_stored_outputs():
    with kd.expect_error(ValueError) as caught:
        raise ValueError("logits of shape (1, 7, 30522) and (1, 6, 49152) must match: " + "one tokenizer " * 20)
    lines = caught.report("kd.soft_target_loss refuses:").splitlines()
    assert lines[0].startswith("kd.soft_target_loss refuses: logits of shape (1, 7, 30522)")
    assert len(lines) > 2 and max(map(len, lines)) <= 116 and lines[1].startswith("    ")
