/* pl-proc-status.c — reading /proc/self/status (pl-proc-status.h). */
#include "pl-proc-status.h"

#include <string.h>

gsize
pl_proc_status_bytes (const char *field)
{
  g_autofree char *status = NULL;
  g_autofree char *key = g_strconcat ("\n", field, ":", NULL);
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  const char *line = strstr (status, key);
  return line ? (gsize) g_ascii_strtoull (line + strlen (key), NULL, 10) * 1024 : 0;
}
