import pytest

from version import Version


def test_sorting_is_numeric():
    texts = ["1.10.0", "1.2.0", "1.9.3", "0.9", "2", "1.2.10"]
    assert [str(v) for v in sorted(Version.parse(t) for t in texts)] == [
        "0.9.0", "1.2.0", "1.2.10", "1.9.3", "1.10.0", "2.0.0"]


def test_parse_rejects_garbage():
    for bad in ("", "1.2.3.4", "a.b", "1..2", "-1.0"):
        with pytest.raises(ValueError):
            Version.parse(bad)


def test_bump_resets_lower_parts_and_rejects_unknown():
    v = Version(3, 7, 9)
    assert v.bump("minor") == Version(3, 8, 0)
    assert str(v) == "3.7.9"
    with pytest.raises(ValueError):
        v.bump("build")


def test_comparison_operators_agree():
    a, b = Version(1, 2, 3), Version(1, 3)
    assert a < b and a <= b and b > a and b >= a and a != b
    assert max([a, b]) == b and min([b, a]) == a


def test_usable_as_dict_key_and_negative_rejected():
    d = {Version.parse("1.0"): "one"}
    assert d[Version(1)] == "one"
    with pytest.raises(ValueError):
        Version(1, -1)
