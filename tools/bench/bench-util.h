/* bench-util.h — small helpers the benchmark programs share. */
#pragma once

#include <stddef.h>

#include "pl-engine.h"

/* Sorts v[0..n) in increasing order (for medians and percentiles). */
void   pl_bench_sort   (double *v, size_t n);
/* The median of v[0..n) (n ≥ 1); sorts v in place. */
double pl_bench_median (double *v, int n);

/* Sets the thread count from argv[1] (default 2) and returns the default net with 4
 * classes: how every engine benchmark starts. */
PlNetSpec *pl_bench_default_spec (int argc, char **argv);
