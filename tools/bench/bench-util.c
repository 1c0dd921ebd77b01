/* bench-util.c — small helpers the benchmark programs share. */
#include "bench-util.h"

#include <stdlib.h>

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
pl_bench_sort (double *v, size_t n)
{
  qsort (v, n, sizeof (double), compare_doubles);
}

double
pl_bench_median (double *v, int n)
{
  pl_bench_sort (v, (size_t) n);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
