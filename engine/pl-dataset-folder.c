/* pl-dataset-folder.c — a dataset from a folder of images/ and masks/ pairs.
 *
 *   path/images/<stem>.{png,jpg,jpeg}   the images (any PNG or JPEG, read as RGB)
 *   path/masks/<stem>.png               class ids: palette index or grey value; 255 = ignore
 *   path/classes.txt                    optional: one class name per line
 *   path/val/images, path/val/masks     optional: the val split; else a held-out fraction
 *
 * The loader checks everything before it keeps anything, and collects every problem rather
 * than stopping at the first, so that a user fixing a folder sees the whole list at once.
 * Work goes in three passes: match names (cheap), read headers (sizes, mismatches, the total
 * memory), then decode. Hidden files (".name") and sub-folders of images/ and masks/ are
 * ignored; any other file that is not a PNG/JPEG image is a problem.
 *
 * The folder may change while this runs (a sync tool, a user copying files in). Each pass
 * re-reads what it needs, so a file that vanishes or is truncated is a problem like any
 * other, one that is replaced at another size is caught when decoded, and files that
 * appear after the first pass are not seen. Every pair is decoded from its own two files,
 * so pairs never mix; a sample is whatever its two files held when they were read.
 */
#include "pl-dataset.h"

#include "pl-image-io.h"
#include "pl-rng.h"
#include "pl-spec.h"

#include <string.h>

#define CLASSES_FILE "classes.txt"

/* Test hook: runs before each pair is decoded (pass 3). */
static void (*decode_hook) (const char *image, const char *mask, gpointer data);
static gpointer decode_hook_data;

void
pl_dataset_set_decode_hook_for_testing (void (*hook) (const char *image, const char *mask,
                                                      gpointer data),
                                        gpointer data)
{
  decode_hook = hook;
  decode_hook_data = data;
}

typedef struct {
  char *stem;
  char *image;       /* full path, or NULL for a lone mask */
  char *mask;        /* full path, or NULL until matched */
  gboolean is_val;   /* from path/val/ */
  gboolean bad;
  int width, height; /* from the headers */
  PlSample *sample;  /* after decoding */
} Entry;

typedef struct {
  PlDatasetError code;
  char *text;        /* "full path: reason" */
} Problem;

typedef struct {
  GPtrArray *list;   /* of Problem*; reported sorted by text, i.e. by path */
  int n_bad;         /* pairs or lone files that will be skipped */
} Problems;

static void
problem_free (Problem *problem)
{
  g_free (problem->text);
  g_free (problem);
}

static int
compare_problems (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(Problem *const *) a)->text, (*(Problem *const *) b)->text);
}

static void
entry_free (Entry *entry)
{
  g_free (entry->stem);
  g_free (entry->image);
  g_free (entry->mask);
  pl_sample_free (entry->sample);
  g_free (entry);
}

static void problem_add (Problems *problems, Entry *entry, PlDatasetError code,
                         const char *format, ...) G_GNUC_PRINTF (4, 5);

/* Records a problem. entry is the pair it spoils (marked bad, counted once), or NULL for a
 * file that belongs to no pair. */
static void
problem_add (Problems *problems, Entry *entry, PlDatasetError code, const char *format, ...)
{
  Problem *problem = g_new0 (Problem, 1);
  va_list args;

  problem->code = code;
  va_start (args, format);
  problem->text = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (problems->list, problem);
  if (entry == NULL || !entry->bad)
    problems->n_bad++;
  if (entry != NULL)
    entry->bad = TRUE;
}

/* A loader error already reads "path: reason". */
static void
problem_take_error (Problems *problems, Entry *entry, GError *error)
{
  problem_add (problems, entry, (PlDatasetError) error->code, "%s", error->message);
  g_error_free (error);
}

static gboolean
has_suffix_ci (const char *name, const char *suffix)
{
  size_t n = strlen (name), k = strlen (suffix);
  return n > k && g_ascii_strcasecmp (name + n - k, suffix) == 0;
}

static char *
stem_of (const char *name)
{
  const char *dot = strrchr (name, '.');
  return g_strndup (name, dot ? (gsize) (dot - name) : strlen (name));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The visible non-folder entries of dir, sorted by name (bytewise, so the order does not
 * depend on the locale). */
static GPtrArray *
list_files (const char *dir, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) handle = g_dir_open (dir, 0, &local_error);
  GPtrArray *names;
  const char *name;

  if (handle == NULL)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO, "%s: cannot read the folder: %s",
                   dir, local_error->message);
      return NULL;
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *full = NULL;
      if (name[0] == '.')
        continue;
      full = g_build_filename (dir, name, NULL);
      if (g_file_test (full, G_FILE_TEST_IS_DIR))
        continue;
      g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_strings);
  return names;
}

/* Matches images/ and masks/ of one split by stem and appends the entries in name order. */
static gboolean
scan_split (const char *images_dir, const char *masks_dir, gboolean is_val, GPtrArray *entries,
            Problems *problems, GError **error)
{
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GPtrArray) masks = NULL;
  g_autoptr (GHashTable) by_stem = g_hash_table_new (g_str_hash, g_str_equal);
  guint first = entries->len;

  if (!g_file_test (masks_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_MISSING,
                   "%s: folder not found; masks go there, one <name>.png per image", masks_dir);
      return FALSE;
    }
  images = list_files (images_dir, error);
  if (images == NULL)
    return FALSE;
  masks = list_files (masks_dir, error);
  if (masks == NULL)
    return FALSE;

  for (guint i = 0; i < images->len; i++)
    {
      const char *name = images->pdata[i];
      g_autofree char *path = g_build_filename (images_dir, name, NULL);
      Entry *entry, *other;

      if (!has_suffix_ci (name, ".png") && !has_suffix_ci (name, ".jpg")
          && !has_suffix_ci (name, ".jpeg"))
        {
          problem_add (problems, NULL, PL_DATASET_ERROR_FORMAT,
                       "%s: not an image (expected .png, .jpg or .jpeg)", path);
          continue;
        }
      entry = g_new0 (Entry, 1);
      entry->stem = stem_of (name);
      entry->image = g_steal_pointer (&path);
      entry->is_val = is_val;
      g_ptr_array_add (entries, entry);
      other = g_hash_table_lookup (by_stem, entry->stem);
      if (other != NULL)
        {
          problem_add (problems, entry, PL_DATASET_ERROR_FORMAT,
                       "%s: same name as %s; a mask can belong to only one image",
                       entry->image, other->image);
          problem_add (problems, other, PL_DATASET_ERROR_FORMAT,
                       "%s: same name as %s; a mask can belong to only one image",
                       other->image, entry->image);
        }
      else
        g_hash_table_insert (by_stem, entry->stem, entry);
    }

  for (guint i = 0; i < masks->len; i++)
    {
      const char *name = masks->pdata[i];
      g_autofree char *path = g_build_filename (masks_dir, name, NULL);
      g_autofree char *stem = stem_of (name);
      Entry *entry;

      if (!has_suffix_ci (name, ".png"))
        {
          problem_add (problems, NULL, PL_DATASET_ERROR_FORMAT,
                       "%s: not a mask (masks are .png files: JPEG would change class ids)",
                       path);
          continue;
        }
      entry = g_hash_table_lookup (by_stem, stem);
      if (entry == NULL)
        problem_add (problems, NULL, PL_DATASET_ERROR_MISSING,
                     "%s: mask without an image (no %s%c%s.png, .jpg or .jpeg)", path,
                     images_dir, G_DIR_SEPARATOR, stem);
      else if (entry->mask != NULL)
        problem_add (problems, entry, PL_DATASET_ERROR_FORMAT,
                     "%s: a second mask for %s (the first is %s)", path, entry->image,
                     entry->mask);
      else
        entry->mask = g_steal_pointer (&path);
    }

  for (guint i = first; i < entries->len; i++)
    {
      Entry *entry = entries->pdata[i];
      if (entry->mask == NULL && !entry->bad)
        problem_add (problems, entry, PL_DATASET_ERROR_MISSING,
                     "%s: no mask (expected %s%c%s.png)", entry->image, masks_dir,
                     G_DIR_SEPARATOR, entry->stem);
    }
  return TRUE;
}

/* classes.txt: one name per line; trailing blank lines are allowed, other blank lines and
 * repeated names are not. */
static char **
read_classes (const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  gsize length;
  int n_lines;

  if (!g_file_get_contents (path, &text, &length, &local_error))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO, "%s: cannot read: %s", path,
                   local_error->message);
      return NULL;
    }
  if (memchr (text, '\0', length) != NULL || !g_utf8_validate (text, (gssize) length, NULL))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: not a UTF-8 text file (expected one class name per line)", path);
      return NULL;
    }
  lines = g_strsplit (text, "\n", -1);
  n_lines = (int) g_strv_length (lines);
  for (int i = 0; i < n_lines; i++)
    g_strstrip (lines[i]);
  while (n_lines > 0 && lines[n_lines - 1][0] == '\0')
    n_lines--;
  for (int i = 0; i < n_lines; i++)
    {
      if (lines[i][0] == '\0')
        {
          g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                       "%s: line %d is empty (expected one class name per line)", path, i + 1);
          return NULL;
        }
      for (int j = 0; j < i; j++)
        if (strcmp (lines[i], lines[j]) == 0)
          {
            g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                         "%s: line %d repeats the class name '%s' of line %d", path, i + 1,
                         lines[i], j + 1);
            return NULL;
          }
      if (i >= PL_SPEC_MAX_CLASSES)
        {
          g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                       "%s: more than %d classes (label 255 means \"ignore\")", path,
                       PL_SPEC_MAX_CLASSES);
          return NULL;
        }
      g_ptr_array_add (names, g_strdup (lines[i]));
    }
  if (names->len < 2)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: %u class names; a segmentation needs at least 2", path, names->len);
      return NULL;
    }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* Pass 2: sizes from the headers. */
static void
check_headers (Entry *entry, Problems *problems)
{
  GError *local_error = NULL;
  int mw, mh;

  if (!pl_image_read_size (entry->image, &entry->width, &entry->height, &local_error))
    problem_take_error (problems, entry, local_error);
  else if (!pl_image_read_size (entry->mask, &mw, &mh, &local_error))
    problem_take_error (problems, entry, local_error);
  else if (mw != entry->width || mh != entry->height)
    problem_add (problems, entry, PL_DATASET_ERROR_MISMATCH,
                 "%s: mask is %d×%d but image is %d×%d", entry->mask, mw, mh, entry->width,
                 entry->height);
}

/* The first label that is neither a class nor 255, as an index into labels; -1 if none. */
static gssize
find_bad_label (const guint8 *labels, gsize n, int n_classes)
{
  for (gsize i = 0; i < n; i++)
    if (labels[i] >= n_classes && labels[i] != PL_LABEL_IGNORE)
      return (gssize) i;
  return -1;
}

/* Pass 3: decode. n_classes is 0 when there is no classes.txt. */
static void
decode_entry (Entry *entry, int n_classes, const char *classes_path, Problems *problems)
{
  GError *local_error = NULL;
  g_autofree guint8 *rgb = NULL;
  g_autofree guint8 *labels = NULL;
  int iw, ih, mw, mh;
  gssize bad;

  if (decode_hook != NULL)
    decode_hook (entry->image, entry->mask, decode_hook_data);
  if (!pl_image_load_rgb (entry->image, &iw, &ih, &rgb, &local_error))
    {
      problem_take_error (problems, entry, local_error);
      return;
    }
  if (!pl_image_load_mask (entry->mask, &mw, &mh, &labels, &local_error))
    {
      problem_take_error (problems, entry, local_error);
      return;
    }
  if (mw != iw || mh != ih)
    {
      problem_add (problems, entry, PL_DATASET_ERROR_MISMATCH,
                   "%s: mask is %d×%d but image is %d×%d", entry->mask, mw, mh, iw, ih);
      return;
    }
  /* The memory total was counted from the headers: a file replaced since then is refused
   * rather than let through at another size. */
  if (iw != entry->width || ih != entry->height)
    {
      problem_add (problems, entry, PL_DATASET_ERROR_IO,
                   "%s: changed while the folder was loading (%d×%d, then %d×%d)",
                   entry->image, entry->width, entry->height, iw, ih);
      return;
    }
  if (n_classes > 0 && (bad = find_bad_label (labels, (gsize) mw * mh, n_classes)) >= 0)
    {
      problem_add (problems, entry, PL_DATASET_ERROR_LABEL,
                   "%s: label %d at (x %d, y %d) is not a class; %s lists %d classes, so "
                   "labels must be 0–%d or 255 (ignore)", entry->mask, labels[bad],
                   (int) (bad % mw), (int) (bad / mw), classes_path, n_classes, n_classes - 1);
      return;
    }
  entry->sample = g_new0 (PlSample, 1);
  entry->sample->name = g_strdup (entry->stem);
  entry->sample->width = iw;
  entry->sample->height = ih;
  entry->sample->rgb = g_steal_pointer (&rgb);
  entry->sample->labels = g_steal_pointer (&labels);
}

/* Sets is_val on round(fraction × n) of the n entries (at least 1 and at most n − 1 when
 * n >= 2 and fraction > 0), chosen by a seeded shuffle. */
static int
hold_out (GPtrArray *good, double fraction, guint64 seed)
{
  PlRng rng;
  int n = (int) good->len, n_val;
  g_autofree int *order = g_new (int, MAX (n, 1));

  if (n < 2 || fraction <= 0.0)
    return 0;
  n_val = CLAMP ((int) (fraction * n + 0.5), 1, n - 1);
  pl_rng_init (&rng, seed);
  for (int i = 0; i < n; i++)
    order[i] = i;
  for (int i = n - 1; i > 0; i--)
    {
      int j = (int) pl_rng_below (&rng, (guint32) i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  for (int i = 0; i < n_val; i++)
    ((Entry *) good->pdata[order[i]])->is_val = TRUE;
  return n_val;
}

/* "path: N bad files or pairs:" and then one problem per line, sorted. */
static char *
join_problems (const char *path, const Problems *problems)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "%s: %d bad %s:", path, problems->n_bad,
                          problems->n_bad == 1 ? "file or pair" : "files or pairs");
  for (guint i = 0; i < problems->list->len; i++)
    g_string_append_printf (text, "\n%s", ((Problem *) problems->list->pdata[i])->text);
  return g_string_free (text, FALSE);
}

PlDataset *
pl_dataset_load_folder (const char *path, const PlFolderOptions *opt, GError **error)
{
  static const PlFolderOptions defaults = { FALSE, 0.1, 0 };
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  g_autoptr (GPtrArray) good = g_ptr_array_new ();  /* borrowed Entry* */
  g_autoptr (GPtrArray) problem_list =
    g_ptr_array_new_with_free_func ((GDestroyNotify) problem_free);
  g_autofree char *images_dir = NULL;
  g_autofree char *masks_dir = NULL;
  g_autofree char *val_dir = NULL;
  g_autofree char *classes_path = NULL;
  g_auto (GStrv) class_names = NULL;
  g_autofree char *root = NULL;
  Problems problems = { problem_list, 0 };
  gboolean has_val_dir, has_classes_file;
  guint64 total_bytes = 0;
  int n_classes = 0, n_val = 0, n_train = 0;
  PlDataset *dataset;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Every message names files by absolute path. */
  root = g_canonicalize_filename (path, NULL);
  path = root;
  if (opt == NULL)
    opt = &defaults;
  if (!(opt->val_fraction >= 0.0 && opt->val_fraction < 1.0))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "%s: val fraction %g is outside [0, 1)", path, opt->val_fraction);
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_MISSING,
                   g_file_test (path, G_FILE_TEST_EXISTS)
                   ? "%s: not a folder (expected a folder holding images/ and masks/)"
                   : "%s: folder not found", path);
      return NULL;
    }
  images_dir = g_build_filename (path, "images", NULL);
  masks_dir = g_build_filename (path, "masks", NULL);
  if (!g_file_test (images_dir, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      gboolean empty = dir != NULL && g_dir_read_name (dir) == NULL;
      g_set_error (error, PL_DATASET_ERROR,
                   empty ? PL_DATASET_ERROR_EMPTY : PL_DATASET_ERROR_MISSING,
                   empty ? "%s: folder is empty (expected images/ and masks/ inside)"
                         : "%s: no images/ folder inside (expected images/ and masks/)", path);
      return NULL;
    }

  /* Pass 1: names. */
  if (!scan_split (images_dir, masks_dir, FALSE, entries, &problems, error))
    return NULL;
  val_dir = g_build_filename (path, "val", NULL);
  has_val_dir = g_file_test (val_dir, G_FILE_TEST_IS_DIR);
  if (has_val_dir)
    {
      g_autofree char *val_images = g_build_filename (val_dir, "images", NULL);
      g_autofree char *val_masks = g_build_filename (val_dir, "masks", NULL);
      if (!g_file_test (val_images, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_MISSING,
                       "%s: folder not found; a val/ split needs val/images and val/masks",
                       val_images);
          return NULL;
        }
      if (!scan_split (val_images, val_masks, TRUE, entries, &problems, error))
        return NULL;
    }
  if (entries->len == 0 && problems.list->len == 0)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_EMPTY,
                   "%s: no images (expected .png, .jpg or .jpeg files)", images_dir);
      return NULL;
    }

  classes_path = g_build_filename (path, CLASSES_FILE, NULL);
  has_classes_file = g_file_test (classes_path, G_FILE_TEST_EXISTS);
  if (has_classes_file)
    {
      class_names = read_classes (classes_path, error);
      if (class_names == NULL)
        return NULL;
      n_classes = (int) g_strv_length (class_names);
    }

  /* Pass 2: headers, and the memory the decoded pairs will take. */
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = entries->pdata[i];
      if (entry->bad)
        continue;
      check_headers (entry, &problems);
      if (!entry->bad)
        total_bytes += (guint64) entry->width * entry->height * 4;
    }
  if (total_bytes > PL_DATASET_MAX_BYTES)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "%s: the images would take %.1f GiB in memory; the limit is %"
                   G_GUINT64_FORMAT " GiB", path, (double) total_bytes / (1 << 30),
                   PL_DATASET_MAX_BYTES >> 30);
      return NULL;
    }

  /* Pass 3: decode. */
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = entries->pdata[i];
      if (!entry->bad)
        decode_entry (entry, n_classes, classes_path, &problems);
      if (!entry->bad)
        g_ptr_array_add (good, entry);
      /* The folder will be refused: keep decoding to find every problem, not the pixels. */
      if (!opt->skip_bad && problems.list->len > 0)
        g_clear_pointer (&entry->sample, pl_sample_free);
    }

  g_ptr_array_sort (problems.list, compare_problems);
  if (problems.list->len > 0 && !opt->skip_bad)
    {
      g_autofree char *message = join_problems (path, &problems);
      g_set_error_literal (error, PL_DATASET_ERROR,
                           ((Problem *) problems.list->pdata[0])->code, message);
      return NULL;
    }
  for (guint i = 0; i < problems.list->len; i++)
    g_debug ("skipped: %s", ((Problem *) problems.list->pdata[i])->text);
  if (good->len == 0)
    {
      g_autofree char *message = join_problems (path, &problems);
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_EMPTY,
                   "no usable image/mask pairs in %s", message);
      return NULL;
    }

  if (class_names == NULL)
    {
      int max_label = 0;
      for (guint i = 0; i < good->len; i++)
        {
          const PlSample *s = ((Entry *) good->pdata[i])->sample;
          for (gsize k = 0; k < (gsize) s->width * s->height; k++)
            if (s->labels[k] != PL_LABEL_IGNORE)
              max_label = MAX (max_label, s->labels[k]);
        }
      n_classes = MAX (max_label + 1, 2);
      class_names = g_new0 (char *, n_classes + 1);
      for (int c = 0; c < n_classes; c++)
        class_names[c] = g_strdup_printf ("class %d", c);
    }

  if (!has_val_dir)
    hold_out (good, opt->val_fraction, opt->seed);
  dataset = pl_dataset_new ((const char *const *) class_names);
  for (guint i = 0; i < good->len; i++)
    {
      Entry *entry = good->pdata[i];
      g_ptr_array_add (entry->is_val ? dataset->val : dataset->train,
                       g_steal_pointer (&entry->sample));
      if (entry->is_val)
        n_val++;
      else
        n_train++;
    }
  if (n_train == 0)
    {
      pl_dataset_free (dataset);
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_EMPTY,
                   "%s: no usable training pairs (only val/ has any)", images_dir);
      return NULL;
    }
  {
    GString *text = g_string_new (NULL);
    g_string_append_printf (text, "folder %s: %d train + %d val pairs (%s), %d classes%s", path,
                            n_train, n_val, has_val_dir ? "val/ folder" : "held out", n_classes,
                            has_classes_file ? " from " CLASSES_FILE : "");
    if (problems.n_bad > 0)
      g_string_append_printf (text, "; skipped %d bad %s", problems.n_bad,
                              problems.n_bad == 1 ? "file or pair" : "files or pairs");
    dataset->description = g_string_free (text, FALSE);
  }
  return dataset;
}
