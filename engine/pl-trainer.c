/* pl-trainer.c — the worker thread: commands in, steps, snapshots out. */
#include "pl-trainer.h"

#include "pl-evaluate.h"
#include "pl-snapshot-private.h"
#include "pl-tsan.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (pl-trainer-error-quark, pl_trainer_error)

typedef enum {
  CMD_START,
  CMD_PAUSE,
  CMD_STEP,
  CMD_STOP,
  CMD_RESET,
  CMD_KNOBS,
  CMD_PREVIEW,
  CMD_CALL,
  CMD_SYNC,
  CMD_QUIT,
} CommandKind;

typedef struct {
  CommandKind kind;
  PlKnobs knobs;
  int image;
  void (*func) (PlNet *net, gpointer data);
  gpointer data;
  GAsyncQueue *reply;  /* CMD_CALL and CMD_SYNC: the caller waits on it */
} Command;

struct _PlTrainer {
  /* set at creation, read-only afterwards (any thread) */
  PlDataset *dataset;
  PlNetSpec *spec;
  PlTrainerOptions options;
  GArray *schedule;        /* PlScheduleEntry, owned copy */
  gsize memory_budget;
  PlSampler *sampler;      /* its memory queries read only immutable fields */
  GThread *thread;
  GAsyncQueue *commands;

  /* worker-owned */
  PlNet *net;
  PlWorkspace *ws, *preview_ws;
  PlRng rng;               /* crop origins and keep masks */
  PlRng image_rng;         /* which images: the same sequence for a seed, whatever the knobs */
  PlTrainerState state;
  PlKnobs knobs;
  gint64 step;
  guint next_schedule;
  double elapsed;
  GPtrArray *chunks;       /* GBytes of full history chunks */
  GArray *tail;            /* PlStepMetrics of the unfinished chunk */
  GArray *edits;           /* PlKnobEdit */
  float *good_params, *good_velocity;  /* weights before the last finite step */
  PlPreview *preview;
  int preview_image;
  double last_preview, last_publish;
  char *message;
  guint message_serial;
  const PlBatch *last_batch;  /* the sampler's, valid until its next draw */
  gboolean batch_changed;     /* last_batch not yet published */

  /* shared between worker and consumers */
  GMutex lock;
  PlSnapshot *snapshot;    /* newest; guarded by lock */
  GSource *pending;        /* the one pending notification; guarded by lock */
};

static void
lock (PlTrainer *t)
{
  pl_mutex_lock (&t->lock);
}

static void
unlock (PlTrainer *t)
{
  pl_mutex_unlock (&t->lock);
}

static double
now (void)
{
  return (double) g_get_monotonic_time () * 1e-6;
}

void
pl_trainer_options_init (PlTrainerOptions *o)
{
  *o = (PlTrainerOptions) {
    .seed = 1,
    .preview_interval = 0.25,
    .validate_every = 0,
    .publish_interval = 1.0 / 30.0,
  };
}

static gsize
default_budget (void)
{
  long pages = sysconf (_SC_PHYS_PAGES), size = sysconf (_SC_PAGE_SIZE);
  if (pages <= 0 || size <= 0)
    return (gsize) 4 << 30;
  return (gsize) pages * (gsize) size / 2;
}

/* Refuses knobs whose step would need more than the budget, with the numbers. */
static gboolean
check_memory (const PlSampler *sampler, gsize budget, const PlKnobs *knobs, GError **error)
{
  PlMemoryEstimate e;
  pl_sampler_memory (sampler, knobs, &e);
  if (e.total <= budget)
    return TRUE;
  g_autofree char *need = g_format_size_full (e.total, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *have = g_format_size_full (budget, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *acts = g_format_size_full (e.activations + e.gradients,
                                              G_FORMAT_SIZE_IEC_UNITS);
  int side = pl_sampler_patch_side (sampler, knobs), n = pl_sampler_count (sampler, knobs);
  g_autofree char *what = side > 0 ? g_strdup_printf ("%d crops of %d×%d px", n, side, side)
                                   : g_strdup_printf ("%d whole images", n);
  g_set_error (error, PL_TRAINER_ERROR, PL_TRAINER_ERROR_MEMORY,
               "%s would need %s (activations and their gradients: %s), more than the memory "
               "budget of %s; lower the batch or the patch size", what, need, acts, have);
  return FALSE;
}

/* ---- history and snapshots (worker) ---- */

static void
record_metrics (PlTrainer *t, const PlStepMetrics *m)
{
  g_array_append_val (t->tail, *m);
  if (t->tail->len == PL_HISTORY_CHUNK)
    {
      g_ptr_array_add (t->chunks, g_bytes_new (t->tail->data,
                                               sizeof (PlStepMetrics) * PL_HISTORY_CHUNK));
      g_array_set_size (t->tail, 0);
    }
}

static void dispatch_pending (PlTrainer *t);

static void
publish (PlTrainer *t)
{
  gboolean fresh = t->batch_changed;  /* crops differ from the last snapshot's */
  const PlBatch *batch = t->last_batch;
  t->batch_changed = FALSE;
  PlSnapshot *s = g_atomic_rc_box_new0 (PlSnapshot);
  s->state = t->state;
  s->step = t->step;
  s->knobs = t->knobs;
  s->chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < t->chunks->len; i++)
    g_ptr_array_add (s->chunks, g_bytes_ref (t->chunks->pdata[i]));
  s->tail = g_bytes_new (t->tail->data, sizeof (PlStepMetrics) * t->tail->len);
  s->history_length = t->chunks->len * PL_HISTORY_CHUNK + t->tail->len;
  s->edits = g_array_copy (t->edits);
  s->preview = _pl_preview_ref (t->preview);
  s->message = g_strdup (t->message);
  s->message_serial = t->message_serial;

  lock (t);
  PlSnapshot *old = t->snapshot;
  unlock (t);
  if (fresh && batch != NULL)
    {
      /* The crops and keep masks of this step. */
      s->crops = g_array_new (FALSE, FALSE, sizeof (PlCrop));
      s->crop_shapes = g_array_new (FALSE, FALSE, sizeof (int));
      GByteArray *keep = g_byte_array_new ();
      for (int p = 0; p < batch->n_passes; p++)
        {
          const PlPass *pass = &batch->passes[p];
          gsize cells = (gsize) pass->out_h * pass->out_w;
          for (int c = 0; c < pass->B; c++)
            {
              int shape[3] = { pass->out_h, pass->out_w, (int) keep->len };
              g_array_append_val (s->crops, pass->crops[c]);
              g_array_append_vals (s->crop_shapes, shape, 3);
              g_byte_array_append (keep, pass->keep + c * cells, (guint) cells);
            }
        }
      s->keep = g_byte_array_free_to_bytes (keep);
    }
  else if (!fresh && old != NULL)
    {
      s->crops = g_array_ref (old->crops);
      s->crop_shapes = g_array_ref (old->crop_shapes);
      s->keep = g_bytes_ref (old->keep);
    }
  else
    {
      s->crops = g_array_new (FALSE, FALSE, sizeof (PlCrop));
      s->crop_shapes = g_array_new (FALSE, FALSE, sizeof (int));
      s->keep = g_bytes_new (NULL, 0);
    }

  lock (t);
  t->snapshot = s;
  unlock (t);
  pl_snapshot_unref (old);
  t->last_publish = now ();
  dispatch_pending (t);
}

static gboolean
notify_in_context (gpointer data)
{
  PlTrainer *t = data;
  lock (t);
  g_clear_pointer (&t->pending, g_source_unref);
  unlock (t);
  t->options.notify (t, t->options.notify_data);
  return G_SOURCE_REMOVE;
}

/* At most one notification waits in the consumer's context. */
static void
dispatch_pending (PlTrainer *t)
{
  if (t->options.context == NULL || t->options.notify == NULL)
    return;
  lock (t);
  if (t->pending == NULL)
    {
      t->pending = g_idle_source_new ();
      g_source_set_priority (t->pending, G_PRIORITY_DEFAULT_IDLE);
      g_source_set_callback (t->pending, notify_in_context, t, NULL);
      g_source_set_static_name (t->pending, "[patchlab] trainer snapshot");
      g_source_attach (t->pending, t->options.context);
    }
  unlock (t);
}

static void
set_message (PlTrainer *t, char *message)
{
  g_free (t->message);
  t->message = message;
  t->message_serial++;
}

/* ---- the run (worker) ---- */

static void
restart_run (PlTrainer *t)
{
  pl_net_init (t->net, t->options.seed);
  PlRng seeds;
  pl_rng_init (&seeds, t->options.seed);
  pl_rng_next_u64 (&seeds);  /* the net's stream is the seed itself */
  t->rng = pl_rng_split (&seeds);
  t->image_rng = pl_rng_split (&seeds);
  t->step = 0;
  t->elapsed = 0.0;
  t->next_schedule = 0;
  g_ptr_array_set_size (t->chunks, 0);
  g_array_set_size (t->tail, 0);
  g_array_set_size (t->edits, 0);
  PlKnobEdit first = { 1, t->knobs };
  g_array_append_val (t->edits, first);
  memcpy (t->good_params, t->net->params, sizeof (float) * t->net->n_params);
  memset (t->good_velocity, 0, sizeof (float) * t->net->n_params);
  g_clear_pointer (&t->preview, _pl_preview_unref);
  t->last_preview = -INFINITY;
  t->last_batch = NULL;      /* no crops until the first step */
  t->batch_changed = TRUE;
  t->state = PL_TRAINER_READY;
}

static void
apply_knobs (PlTrainer *t, const PlKnobs *knobs)
{
  if (pl_knobs_equal (knobs, &t->knobs))
    return;
  t->knobs = *knobs;
  PlKnobEdit *last = &g_array_index (t->edits, PlKnobEdit, t->edits->len - 1);
  PlKnobEdit edit = { t->step + 1, *knobs };
  if (last->step == edit.step)
    *last = edit;  /* several edits between two steps: the last one wins */
  else
    g_array_append_val (t->edits, edit);
}

/* Schedule entries due before the coming step. */
static void
apply_schedule (PlTrainer *t)
{
  while (t->schedule != NULL && t->next_schedule < t->schedule->len)
    {
      const PlScheduleEntry *e = &g_array_index (t->schedule, PlScheduleEntry, t->next_schedule);
      if (e->step > t->step + 1)
        break;
      t->next_schedule++;
      PlKnobs knobs = t->knobs;
      g_autoptr (GError) error = NULL;
      if (pl_knobs_apply (&knobs, e->assignments, &error) && check_memory (t->sampler, t->memory_budget, &knobs, &error))
        apply_knobs (t, &knobs);
      else
        set_message (t, g_strdup_printf ("Schedule entry at step %" G_GINT64_FORMAT
                                         " ignored: %s", e->step, error->message));
    }
}

static void
update_preview (PlTrainer *t)
{
  const PlSample *sample = t->dataset->train->pdata[t->preview_image];
  int oh, ow;
  if (!pl_net_spec_output_size (t->spec, sample->height, sample->width, &oh, &ow))
    return;
  PlPreview *p = _pl_preview_new (t->preview_image, t->step, oh, ow, t->spec->n_classes);
  pl_evaluate_sample (t->net, t->preview_ws, sample, p->probabilities, p->argmax, NULL);
  _pl_preview_unref (t->preview);
  t->preview = p;
  t->last_preview = now ();
}

static void
validate (PlTrainer *t, PlStepMetrics *m)
{
  if (t->dataset->val->len > 0)
    pl_evaluate_samples (t->net, t->preview_ws, t->dataset->val,
                         (guint) MAX (t->options.validate_images, 0), &m->val_accuracy,
                         &m->val_miou);
}

static gboolean
all_finite (const float *x, gsize n)
{
  float acc = 0.0f;
  for (gsize i = 0; i < n; i++)
    acc += x[i] * 0.0f;  /* stays 0 unless some x is NaN or ±Inf */
  return acc == 0.0f;
}

static void
run_step (PlTrainer *t)
{
  apply_schedule (t);
  /* With a gate, this run's step waits for its turn; its clock starts after. */
  if (t->options.gate != NULL)
    pl_step_gate_enter (t->options.gate);
  double t0 = now ();
  const PlBatch *batch = pl_sampler_draw (t->sampler, &t->knobs, &t->image_rng, &t->rng);
  double t_net = now ();

  PlNet *net = t->net;
  pl_net_zero_grad (net);
  double loss_sum = 0.0;
  gint64 correct = 0;
  PlLayerFlops flops = { 0, 0 };
  for (int p = 0; p < batch->n_passes; p++)
    {
      const PlPass *pass = &batch->passes[p];
      PlLossStats stats;
      PlLayerFlops f;
      pl_net_forward (net, t->ws, pass->input, pass->B, pass->H, pass->W);
      pl_net_loss (net, t->ws, pass->labels, pass->keep, PL_LOSS_SUM, &stats);
      pl_net_backward (net, t->ws, NULL);
      pl_net_spec_flops (t->spec, pass->B, pass->H, pass->W, NULL, &f);
      loss_sum += stats.loss_sum;
      correct += stats.n_correct;
      flops.forward += f.forward;
      flops.backward += f.backward;
    }
  /* Mean over every loss term of the step, whichever pass it came from. */
  if (batch->terms > 0)
    {
      float scale = 1.0f / (float) batch->terms;
      for (gsize i = 0; i < net->n_params; i++)
        net->grads[i] *= scale;
    }
  double loss = batch->terms > 0 ? loss_sum / (double) batch->terms : NAN;

  gboolean finite = batch->terms == 0 || (isfinite (loss) && all_finite (net->grads, net->n_params));
  if (!finite && t->options.gate != NULL)
    pl_step_gate_leave (t->options.gate);
  if (!finite)
    {
      memcpy (net->params, t->good_params, sizeof (float) * net->n_params);
      memcpy (net->velocity, t->good_velocity, sizeof (float) * net->n_params);
      t->state = PL_TRAINER_PAUSED;
      const char *what = isnan (loss) ? "the loss is not a number"
                         : isinf (loss) ? "the loss is infinite"
                                        : "the gradient is not finite";
      set_message (t, g_strdup_printf ("Training diverged at step %" G_GINT64_FORMAT " (%s): "
                                       "the weights of step %" G_GINT64_FORMAT " were restored "
                                       "and the run paused. Lower the learning rate (now %g) "
                                       "before going on.", t->step + 1, what, t->step,
                                       t->knobs.lr));
      publish (t);
      return;
    }
  if (batch->terms > 0)
    {
      memcpy (t->good_params, net->params, sizeof (float) * net->n_params);
      memcpy (t->good_velocity, net->velocity, sizeof (float) * net->n_params);
      PlSgdParams sgd = { (float) t->knobs.lr, (float) t->knobs.momentum,
                          (float) t->knobs.weight_decay };
      pl_net_sgd_step (net, &sgd);
    }
  double t1 = now ();
  if (t->options.gate != NULL)
    pl_step_gate_leave (t->options.gate);

  t->step++;
  t->elapsed += t1 - t0;
  PlMemoryEstimate mem;
  pl_sampler_memory (t->sampler, &t->knobs, &mem);
  PlStepMetrics m = {
    .step = t->step,
    .loss = loss,
    .accuracy = batch->terms > 0 ? (double) correct / (double) batch->terms : NAN,
    .flops_forward = flops.forward,
    .flops_backward = flops.backward,
    .pixels_pushed = batch->pixels_pushed,
    .pixels_covered = batch->pixels_covered,
    .cells = batch->cells,
    .terms = batch->terms,
    .patch_side = pl_sampler_patch_side (t->sampler, &t->knobs),
    .n_crops = batch->n_crops,
    .seconds = t1 - t0,
    .net_seconds = t1 - t_net,
    .elapsed = t->elapsed,
    .started = t0,
    .memory = mem.total,
    .val_accuracy = NAN,
    .val_miou = NAN,
  };

  /* Preview and validation: after the step, timed apart from it. */
  double side_start = now ();
  if (t->options.validate_every > 0 && t->step % t->options.validate_every == 0)
    validate (t, &m);
  if (t->options.preview_interval >= 0 && side_start - t->last_preview >= t->options.preview_interval)
    update_preview (t);
  m.side_seconds = now () - side_start;
  record_metrics (t, &m);

  if (t->options.max_steps > 0 && t->step >= t->options.max_steps)
    t->state = PL_TRAINER_STOPPED;
  t->last_batch = batch;
  t->batch_changed = TRUE;
  if (t->state != PL_TRAINER_RUNNING || now () - t->last_publish >= t->options.publish_interval)
    publish (t);
}

/* Returns FALSE when the worker should exit. */
static gboolean
handle (PlTrainer *t, Command *cmd)
{
  gboolean keep_going = TRUE;
  switch (cmd->kind)
    {
    case CMD_START:
      if (t->state == PL_TRAINER_READY || t->state == PL_TRAINER_PAUSED)
        t->state = PL_TRAINER_RUNNING;
      break;
    case CMD_PAUSE:
      if (t->state == PL_TRAINER_RUNNING)
        t->state = PL_TRAINER_PAUSED;
      break;
    case CMD_STEP:
      if (t->state == PL_TRAINER_READY || t->state == PL_TRAINER_PAUSED
          || t->state == PL_TRAINER_RUNNING)
        {
          t->state = PL_TRAINER_PAUSED;
          run_step (t);
          if (t->state == PL_TRAINER_PAUSED && t->options.preview_interval >= 0)
            update_preview (t);  /* single steps always show their effect */
        }
      break;
    case CMD_STOP:
      t->state = PL_TRAINER_STOPPED;
      break;
    case CMD_RESET:
      restart_run (t);
      update_preview (t);
      break;
    case CMD_KNOBS:
      apply_knobs (t, &cmd->knobs);
      break;
    case CMD_PREVIEW:
      t->preview_image = cmd->image;
      update_preview (t);
      break;
    case CMD_CALL:
      cmd->func (t->net, cmd->data);
      /* The weights may have changed: the last good copy and the preview follow. */
      memcpy (t->good_params, t->net->params, sizeof (float) * t->net->n_params);
      memcpy (t->good_velocity, t->net->velocity, sizeof (float) * t->net->n_params);
      if (t->options.preview_interval >= 0)
        update_preview (t);
      break;
    case CMD_SYNC:
      break;
    case CMD_QUIT:
      keep_going = FALSE;
      break;
    }
  if (keep_going)
    publish (t);
  return keep_going;
}

static gpointer
worker_main (gpointer data)
{
  PlTrainer *t = data;
  int threads = t->options.threads;
  if (threads <= 0)
    threads = MAX (1, (int) g_get_num_processors () - 1);
  pl_engine_set_threads (threads);

  for (;;)
    {
      Command *cmd = t->state == PL_TRAINER_RUNNING ? g_async_queue_try_pop (t->commands)
                                                    : g_async_queue_pop (t->commands);
      if (cmd == NULL)
        {
          run_step (t);
          continue;
        }
      PL_TSAN_ACQUIRE (cmd);
      /* A waiting caller owns its command and frees it once answered: read the
       * reply queue first and touch nothing after answering. */
      GAsyncQueue *reply = cmd->reply;
      gboolean keep_going = handle (t, cmd);
      if (reply != NULL)
        {
          PL_TSAN_RELEASE (reply);
          g_async_queue_push (reply, GINT_TO_POINTER (1));
        }
      else
        g_free (cmd);
      if (!keep_going)
        break;
    }
  return NULL;
}

/* ---- public API (any thread) ---- */

static void
push (PlTrainer *t, Command *cmd)
{
  PL_TSAN_RELEASE (cmd);
  g_async_queue_push (t->commands, cmd);
}

static void
send (PlTrainer *t, Command *cmd)
{
  push (t, g_memdup2 (cmd, sizeof *cmd));
}

static void
send_and_wait (PlTrainer *t, Command *cmd)
{
  GAsyncQueue *reply = g_async_queue_new ();
  cmd->reply = reply;
  push (t, cmd);
  g_async_queue_pop (reply);
  PL_TSAN_ACQUIRE (reply);
  g_async_queue_unref (reply);
}

PlTrainer *
pl_trainer_new (PlDataset *dataset, const PlNetSpec *spec, const PlKnobs *knobs,
                const PlTrainerOptions *options, GError **error)
{
  g_return_val_if_fail (dataset != NULL && spec != NULL && knobs != NULL, NULL);
  g_autoptr (PlDataset) owned = dataset;
  PlTrainerOptions defaults;
  pl_trainer_options_init (&defaults);
  if (options == NULL)
    options = &defaults;
  if (!pl_knobs_validate (knobs, error))
    return NULL;
  if (spec->n_classes != dataset->n_classes)
    {
      g_set_error (error, PL_TRAINER_ERROR, PL_TRAINER_ERROR_DATA,
                   "the net has %d outputs but the dataset has %d classes", spec->n_classes,
                   dataset->n_classes);
      return NULL;
    }
  g_autoptr (PlSampler) sampler = pl_sampler_new (spec, dataset->train, error);
  if (sampler == NULL)
    return NULL;
  if (options->preview_image < 0 || (guint) options->preview_image >= dataset->train->len)
    {
      g_set_error (error, PL_TRAINER_ERROR, PL_TRAINER_ERROR_DATA,
                   "preview image %d does not exist (the train split has %u images)",
                   options->preview_image, dataset->train->len);
      return NULL;
    }

  gsize budget = options->memory_budget > 0 ? options->memory_budget : default_budget ();
  if (!check_memory (sampler, budget, knobs, error))
    return NULL;

  PlTrainer *t = g_new0 (PlTrainer, 1);
  t->dataset = g_steal_pointer (&owned);
  t->spec = pl_net_spec_copy (spec);
  t->options = *options;
  if (t->options.publish_interval <= 0)
    t->options.publish_interval = defaults.publish_interval;
  t->sampler = g_steal_pointer (&sampler);
  t->memory_budget = budget;
  if (options->schedule != NULL)
    {
      t->schedule = pl_schedule_new ();
      for (guint i = 0; i < options->schedule->len; i++)
        {
          PlScheduleEntry e = g_array_index (options->schedule, PlScheduleEntry, i);
          e.assignments = g_strdup (e.assignments);
          g_array_append_val (t->schedule, e);
        }
    }
  if (t->options.context != NULL)
    g_main_context_ref (t->options.context);
  if (t->options.gate != NULL)
    pl_step_gate_ref (t->options.gate);
  t->knobs = *knobs;
  t->net = pl_net_new (spec, options->seed);
  t->ws = pl_workspace_new ();
  t->preview_ws = pl_workspace_new ();
  t->chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  t->tail = g_array_new (FALSE, FALSE, sizeof (PlStepMetrics));
  t->edits = g_array_new (FALSE, FALSE, sizeof (PlKnobEdit));
  t->good_params = g_new (float, t->net->n_params);
  t->good_velocity = g_new0 (float, t->net->n_params);
  t->preview_image = options->preview_image;
  g_mutex_init (&t->lock);
  t->commands = g_async_queue_new ();
  restart_run (t);
  /* The first snapshot exists before the worker runs, so dup never sees NULL. */
  publish (t);
  t->thread = g_thread_new ("pl-trainer", worker_main, t);
  if (t->options.preview_interval >= 0)
    pl_trainer_set_preview (t, t->preview_image);
  return t;
}

void
pl_trainer_free (PlTrainer *t)
{
  if (t == NULL)
    return;
  if (t->thread != NULL)
    {
      Command quit = { .kind = CMD_QUIT };
      Command *cmd = g_memdup2 (&quit, sizeof quit);
      PL_TSAN_RELEASE (cmd);
      g_async_queue_push_front (t->commands, cmd);
      g_thread_join (t->thread);
    }
  if (t->commands != NULL)
    {
      Command *left;
      while ((left = g_async_queue_try_pop (t->commands)) != NULL)
        {
          PL_TSAN_ACQUIRE (left);
          g_free (left);
        }  /* commands sent after quit; no one waits on them */
      g_async_queue_unref (t->commands);
    }
  if (t->pending != NULL)
    {
      g_source_destroy (t->pending);
      g_source_unref (t->pending);
    }
  if (t->options.context != NULL)
    g_main_context_unref (t->options.context);
  pl_step_gate_unref (t->options.gate);
  pl_snapshot_unref (t->snapshot);
  _pl_preview_unref (t->preview);
  pl_sampler_free (t->sampler);
  pl_net_free (t->net);
  pl_workspace_free (t->ws);
  pl_workspace_free (t->preview_ws);
  if (t->chunks != NULL)
    g_ptr_array_unref (t->chunks);
  if (t->tail != NULL)
    g_array_unref (t->tail);
  if (t->edits != NULL)
    g_array_unref (t->edits);
  pl_schedule_free (t->schedule);
  g_free (t->good_params);
  g_free (t->good_velocity);
  g_free (t->message);
  g_mutex_clear (&t->lock);
  pl_net_spec_free (t->spec);
  pl_dataset_free (t->dataset);
  g_free (t);
}

#define SIMPLE_COMMAND(name, KIND) \
  void name (PlTrainer *t) { Command c = { .kind = KIND }; send (t, &c); }

SIMPLE_COMMAND (pl_trainer_start, CMD_START)
SIMPLE_COMMAND (pl_trainer_pause, CMD_PAUSE)
SIMPLE_COMMAND (pl_trainer_step, CMD_STEP)
SIMPLE_COMMAND (pl_trainer_stop, CMD_STOP)
SIMPLE_COMMAND (pl_trainer_reset, CMD_RESET)

void
pl_trainer_set_preview (PlTrainer *t, int image)
{
  g_return_if_fail (image >= 0 && (guint) image < t->dataset->train->len);
  Command c = { .kind = CMD_PREVIEW, .image = image };
  send (t, &c);
}

gboolean
pl_trainer_set_knobs (PlTrainer *t, const PlKnobs *knobs, GError **error)
{
  if (!pl_knobs_validate (knobs, error)
      || !check_memory (t->sampler, t->memory_budget, knobs, error))
    return FALSE;
  Command c = { .kind = CMD_KNOBS, .knobs = *knobs };
  send (t, &c);
  return TRUE;
}

gsize
pl_trainer_estimate_memory (PlTrainer *t, const PlKnobs *knobs)
{
  PlMemoryEstimate e;
  pl_sampler_memory (t->sampler, knobs, &e);
  return e.total;
}

gsize
pl_trainer_get_memory_budget (PlTrainer *t)
{
  return t->memory_budget;
}

void
pl_trainer_call (PlTrainer *t, void (*func) (PlNet *net, gpointer data), gpointer data)
{
  Command *c = g_new0 (Command, 1);
  c->kind = CMD_CALL;
  c->func = func;
  c->data = data;
  send_and_wait (t, c);
  g_free (c);
}

void
pl_trainer_sync (PlTrainer *t)
{
  Command *c = g_new0 (Command, 1);
  c->kind = CMD_SYNC;
  send_and_wait (t, c);
  g_free (c);
}

const PlDataset *
pl_trainer_get_dataset (PlTrainer *t)
{
  return t->dataset;
}

const PlNetSpec *
pl_trainer_get_spec (PlTrainer *t)
{
  return t->spec;
}

PlSnapshot *
pl_trainer_dup_snapshot (PlTrainer *t)
{
  lock (t);
  PlSnapshot *s = pl_snapshot_ref (t->snapshot);
  unlock (t);
  return s;
}
