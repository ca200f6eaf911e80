"""Descriptive statistics for lists of numbers."""

# spec: Summary statistics (ValueError for an empty list in every function).
#   mean(xs): the arithmetic mean, a float;
#   median(xs): the middle value of the sorted numbers, the mean of the two
#   middle ones for an even count;
#   pstdev(xs): the population standard deviation (square root of the mean
#   squared distance from the mean);
#   zscores(xs): each number's distance from the mean in standard deviations,
#   all 0.0 when pstdev is 0.
#
#   >>> median([3, 1, 2, 10])
#   2.5
