"""Business days."""

from datetime import date, timedelta

HOLIDAYS: set[date] = set()

# spec: Business-day arithmetic (Saturday and Sunday are weekend days; a day in
#   HOLIDAYS is not a business day either).
#   is_business_day(d): whether d is a business day;
#   add_business_days(d, n): the date n business days after d (n >= 0; with
#   n == 0, d itself if it is a business day, else the next one);
#   business_days_between(start, end): how many business days lie in
#   [start, end) (0 when end <= start).
#
#   >>> add_business_days(date(2024, 5, 3), 1)
#   datetime.date(2024, 5, 6)


def next_monday(d: date) -> date:
    return d + timedelta(days=(7 - d.weekday()) % 7 or 7)
