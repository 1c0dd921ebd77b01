/* pl-step-gate.c — a FIFO ticket lock. */
#include "pl-step-gate.h"

#include "pl-tsan.h"

struct _PlStepGate {
  GMutex lock;
  GCond turn;
  guint64 next_ticket, serving;
};

static void
gate_clear (gpointer data)
{
  PlStepGate *gate = data;
  g_mutex_clear (&gate->lock);
  g_cond_clear (&gate->turn);
}

PlStepGate *
pl_step_gate_new (void)
{
  PlStepGate *gate = g_atomic_rc_box_new0 (PlStepGate);
  g_mutex_init (&gate->lock);
  g_cond_init (&gate->turn);
  return gate;
}

PlStepGate *
pl_step_gate_ref (PlStepGate *gate)
{
  return g_atomic_rc_box_acquire (gate);
}

void
pl_step_gate_unref (PlStepGate *gate)
{
  if (gate != NULL)
    g_atomic_rc_box_release_full (gate, gate_clear);
}

void
pl_step_gate_enter (PlStepGate *gate)
{
  pl_mutex_lock (&gate->lock);
  guint64 ticket = gate->next_ticket++;
  while (gate->serving != ticket)
    pl_cond_wait (&gate->turn, &gate->lock);
  pl_mutex_unlock (&gate->lock);
}

void
pl_step_gate_leave (PlStepGate *gate)
{
  pl_mutex_lock (&gate->lock);
  gate->serving++;
  g_cond_broadcast (&gate->turn);
  pl_mutex_unlock (&gate->lock);
}
