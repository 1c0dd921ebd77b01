/* bench-util.h — small helpers the benchmark programs share. */
#pragma once

#include <stddef.h>

/* Sorts v[0..n) in increasing order (for medians and percentiles). */
void   pl_bench_sort   (double *v, size_t n);
/* The median of v[0..n) (n ≥ 1); sorts v in place. */
double pl_bench_median (double *v, int n);
