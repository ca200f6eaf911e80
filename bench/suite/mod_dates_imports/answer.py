"""Business days."""

from datetime import date, timedelta

HOLIDAYS: set[date] = set()

# spec (implemented): Business-day arithmetic (Saturday and Sunday are weekend days; a day in
#   HOLIDAYS is not a business day either).
#   is_business_day(d): whether d is a business day;
#   add_business_days(d, n): the date n business days after d (n >= 0; with
#   n == 0, d itself if it is a business day, else the next one);
#   business_days_between(start, end): how many business days lie in
#   [start, end) (0 when end <= start).
#
#   >>> add_business_days(date(2024, 5, 3), 1)
#   datetime.date(2024, 5, 6)


def is_business_day(d: date) -> bool:
    """Whether ``d`` is a weekday and not a holiday.

    >>> is_business_day(date(2024, 5, 4))
    False
    """
    return d.weekday() < 5 and d not in HOLIDAYS


def add_business_days(d: date, n: int) -> date:
    """The date ``n`` business days after ``d``.

    >>> add_business_days(date(2024, 5, 4), 0)
    datetime.date(2024, 5, 6)
    """
    while not is_business_day(d):
        d += timedelta(days=1)
    while n > 0:
        d += timedelta(days=1)
        if is_business_day(d):
            n -= 1
    return d


def business_days_between(start: date, end: date) -> int:
    """Business days in [start, end).

    >>> business_days_between(date(2024, 5, 6), date(2024, 5, 13))
    5
    """
    count, d = 0, start
    while d < end:
        count += is_business_day(d)
        d += timedelta(days=1)
    return count


def next_monday(d: date) -> date:
    return d + timedelta(days=(7 - d.weekday()) % 7 or 7)
