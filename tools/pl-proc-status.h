/* pl-proc-status.h — one number from /proc/self/status, for the tools that report the
 * memory a run takes (benchmarks, soak). Linux only; 0 when it cannot be read. */
#pragma once

#include <glib.h>

/* field is "VmRSS" (resident now) or "VmHWM" (peak resident); the result is in bytes. */
gsize pl_proc_status_bytes (const char *field);
