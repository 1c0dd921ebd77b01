/* fuzz-util.h — what the libFuzzer targets in tests/fuzz share.
 *
 * The loaders take paths, so a target writes its input to a file in a private
 * temporary folder (on /dev/shm when there is one, so no disk is touched) and
 * hands that path over. The same targets run in two ways: linked with libFuzzer
 * (-Dfuzzing=true, clang) to search for crashes, and linked with fuzz-main.c in
 * every build, where they replay the seed corpus and every saved crash as a
 * regression test.
 *
 * A target checks more than "no crash": a failure must come with a GError in the
 * loader's domain whose message names the file, and a success must give a result
 * that keeps the loader's documented promises. A broken promise aborts, which
 * both drivers report as a failure.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The private folder (created on first use, removed at exit). */
const char *pl_fuzz_dir (void);

/* Writes data to pl_fuzz_dir()/name (replacing it) and returns the full path (owned). */
char *pl_fuzz_write (const char *name, const guint8 *data, gsize size);

/* Removes a file or a folder with everything below it. */
void pl_fuzz_remove_tree (const char *path);

/* Aborts unless error is set, in domain, with a message that contains needle. */
void pl_fuzz_check_error (const GError *error, GQuark domain, const char *needle);

/* Makes GLib criticals and warnings abort(): bad input must give a GError, never a
 * g_return_if_fail. (abort, not GLib's breakpoint trap, which libFuzzer would not catch
 * and keep as a crash.) Quiets g_debug. Call once at start. */
void pl_fuzz_init (void);

/* Prints the message and aborts. */
void pl_fuzz_fail (const char *format, ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

/* Aborts with a message when cond is false (asserts stay on in every build). */
#define PL_FUZZ_CHECK(cond) \
  G_STMT_START { if (G_UNLIKELY (!(cond))) pl_fuzz_fail ("fuzz check failed: %s", #cond); } \
  G_STMT_END

G_END_DECLS
