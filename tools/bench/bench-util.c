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

PlNetSpec *
pl_bench_default_spec (int argc, char **argv)
{
  pl_engine_set_threads (argc > 1 ? atoi (argv[1]) : 2);
  g_autoptr (GError) error = NULL;
  PlNetSpec *spec = pl_net_spec_parse (PL_DEFAULT_SPEC, 3, 4, &error);
  g_assert_no_error (error);
  return spec;
}
