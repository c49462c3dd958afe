"""rnnkit.feedback: messages that say what is wrong."""

import numpy as np
import pytest

from rnnkit.feedback import check_array, check_close, check_equal, check_grads


def test_shape_message():
    with pytest.raises(
        AssertionError, match=r"h_t has shape \(4, 3\), expected \(2, 3\)"
    ):
        check_array("h_t", np.zeros((4, 3)), np.zeros((2, 3)))


def test_value_messages():
    check_array("x", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
    with pytest.raises(
        AssertionError,
        match=r"x is wrong: max error 0.5; e.g. x\[1\] is 2.5, expected 2",
    ):
        check_array("x", np.array([1.0, 2.5]), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError, match=r"ids\[0, 1\] is 5, expected 7"):
        check_array("ids", np.array([[1, 5]]), np.array([[1, 7]]))
    with pytest.raises(AssertionError, match="expected integers"):
        check_array("ids", np.array([1.0]), np.array([1]))
    with pytest.raises(AssertionError, match="NaN or inf"):
        check_array("x", np.array([np.nan]), np.array([1.0]))
    with pytest.raises(AssertionError, match="forget to return"):
        check_array("x", None, np.array([1.0]))


def test_check_equal():
    check_equal("v", [1, 2], [1, 2])
    with pytest.raises(AssertionError, match=r"v\[1\] is 3, expected 2"):
        check_equal("v", [1, 3], [1, 2])
    with pytest.raises(AssertionError, match="v has length 1, expected 2"):
        check_equal("v", [1], [1, 2])
    with pytest.raises(AssertionError, match="n is 3, expected 4"):
        check_equal("n", 3, 4)


def test_check_equal_is_strict_about_type():
    # numpy's scalar types count as the Python kind they stand for
    check_equal("n", np.int64(3), 3)
    check_equal("n", 3, np.int32(3))
    check_equal("x", np.float64(0.5), 0.5)
    check_equal("flag", np.bool_(True), True)
    check_equal("pair", (np.int64(0), 1.0), (0, 1.0))
    check_equal("counts", {(0,): {1: 2}}, {(0,): {1: np.int64(2)}})
    check_equal("s", np.str_("ab"), "ab")
    wrong = [
        (3.0, 3, r"n is 3\.0 of type float, expected an integer \(int\) 3"),
        (np.float64(3.0), 3, "of type numpy.float64, expected an integer"),
        (True, 1, "of type bool, expected an integer"),
        (1, True, "of type int, expected a bool"),
        (3, 3.0, "of type int, expected a float"),
        (np.array(3), 3, "of type numpy.ndarray, expected an integer"),
        ((1, 2), [1, 2], "of type tuple, expected list"),
        (np.array([1, 2]), [1, 2], "of type numpy.ndarray, expected list"),
        ([1, 2.0], [1, 2], r"n\[1\] is 2\.0 of type float, expected an integer"),
        ({"a": 1.0}, {"a": 1}, r"n\['a'\] is 1\.0 of type float"),
        ({"a": 1}, {"b": 1}, r"lacks keys \['b'\] and has extra keys \['a'\]"),
        (None, "ab", "of type NoneType, expected str 'ab'"),
        (float("nan"), 0.5, "n is nan, expected 0.5"),
    ]
    for got, expected, message in wrong:
        with pytest.raises(AssertionError, match=message):
            check_equal("n", got, expected)


def test_check_equal_rejects_an_object_equal_to_everything():
    class Yes:
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False

    for expected in (3, 0.5, True, "a", [1], (1,), {"a": 1}, None):
        with pytest.raises(AssertionError, match="of type .*Yes, expected"):
            check_equal("v", Yes(), expected)


def test_check_grads_names_the_failing_term():
    exp = {"dW_xh": np.ones(2), "dW_hh": np.ones(2)}
    got = {"dW_xh": np.ones(2), "dW_hh": np.zeros(2)}
    with pytest.raises(
        AssertionError, match="dW_hh wrong; dW_xh right: check the recurrent term"
    ):
        check_grads(got, exp, hints={"dW_hh": "check the recurrent term"})
    with pytest.raises(AssertionError, match="dW_hh is missing"):
        check_grads({"dW_xh": np.ones(2)}, exp)
    check_grads(exp, exp)


def test_check_close_names_a_known_mistake():
    check_close("ppl", 2.0141, 2.0141)
    with pytest.raises(
        AssertionError, match=r"ppl is 66.67, expected 2.014: did you average"
    ):
        check_close("ppl", 66.6666, 2.0141, [(66.6666, "did you average over T?")])
    with pytest.raises(
        AssertionError,
        match=r"^ppl is 3.000, expected 2.014$|^ppl is 3, expected 2.014$",
    ):
        check_close("ppl", 3.0, 2.0141, [(66.6666, "did you average over T?")])
    with pytest.raises(AssertionError, match="forget to return"):
        check_close("ppl", None, 1.0)
