from datetime import date

import workdays
from workdays import add_business_days, business_days_between, is_business_day, next_monday


def test_weekends():
    assert [is_business_day(date(2024, 5, d)) for d in range(6, 13)] == [True] * 5 + [False] * 2


def test_add_over_weekends_and_from_a_weekend():
    assert add_business_days(date(2024, 5, 10), 5) == date(2024, 5, 17)
    assert add_business_days(date(2024, 5, 11), 1) == date(2024, 5, 14)
    assert add_business_days(date(2024, 5, 8), 0) == date(2024, 5, 8)


def test_holidays_are_read_at_call_time():
    workdays.HOLIDAYS.add(date(2024, 5, 6))
    try:
        assert not is_business_day(date(2024, 5, 6))
        assert add_business_days(date(2024, 5, 3), 1) == date(2024, 5, 7)
        assert business_days_between(date(2024, 5, 6), date(2024, 5, 13)) == 4
    finally:
        workdays.HOLIDAYS.clear()


def test_between_empty_and_reversed():
    assert business_days_between(date(2024, 5, 6), date(2024, 5, 6)) == 0
    assert business_days_between(date(2024, 5, 13), date(2024, 5, 6)) == 0
    assert business_days_between(date(2024, 1, 1), date(2025, 1, 1)) == 262


def test_existing_function_still_works():
    assert next_monday(date(2024, 5, 6)) == date(2024, 5, 13)
