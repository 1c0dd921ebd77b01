/* pl-step-gate.h — runs compared side by side take turns, one step at a time.
 *
 * Trainers that share a gate run their steps one after another, in the order they
 * asked (a ticket lock), so each step has the whole machine (both cores, all BLAS
 * threads) to itself and each run's clock, which counts only its own steps, reads what
 * the run would take alone. That is what keeps a wall-time comparison honest; running
 * them concurrently would make each one's time depend on the others'. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PlStepGate PlStepGate;

PlStepGate *pl_step_gate_new   (void);
PlStepGate *pl_step_gate_ref   (PlStepGate *gate);
void        pl_step_gate_unref (PlStepGate *gate);
/* Waits for this caller's turn; every enter is matched by one leave. */
void        pl_step_gate_enter (PlStepGate *gate);
void        pl_step_gate_leave (PlStepGate *gate);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlStepGate, pl_step_gate_unref)

G_END_DECLS
