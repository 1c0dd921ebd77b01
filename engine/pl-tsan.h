/* pl-tsan.h — telling ThreadSanitizer about hand-offs it cannot see.
 *
 * GLib's mutexes and async queues synchronise through futexes inside an
 * uninstrumented library, so TSan would report every command and snapshot handed
 * between threads as a race. Instead of suppressing reports for our own code, the
 * few hand-off points say what they do: RELEASE before publishing an object to
 * another thread, ACQUIRE after receiving it. Outside TSan builds these are nothing. */
#pragma once

/* GCC says __SANITIZE_THREAD__; clang says __has_feature (thread_sanitizer). */
#if defined(__SANITIZE_THREAD__)
#define PL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PL_TSAN 1
#endif
#endif

#if defined(PL_TSAN)
void __tsan_acquire (void *addr);
void __tsan_release (void *addr);
#define PL_TSAN_ACQUIRE(addr) __tsan_acquire ((void *) (addr))
#define PL_TSAN_RELEASE(addr) __tsan_release ((void *) (addr))
#else
#define PL_TSAN_ACQUIRE(addr) ((void) 0)
#define PL_TSAN_RELEASE(addr) ((void) 0)
#endif

#include <glib.h>

/* A GMutex and GCond with their hand-offs annotated. */
static inline void
pl_mutex_lock (GMutex *mutex)
{
  g_mutex_lock (mutex);
  PL_TSAN_ACQUIRE (mutex);
}

static inline void
pl_mutex_unlock (GMutex *mutex)
{
  PL_TSAN_RELEASE (mutex);
  g_mutex_unlock (mutex);
}

static inline void
pl_cond_wait (GCond *cond, GMutex *mutex)
{
  PL_TSAN_RELEASE (mutex);
  g_cond_wait (cond, mutex);
  PL_TSAN_ACQUIRE (mutex);
}
