#define G_LOG_DOMAIN "sw-gui"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sw-gui-details.h"
#include "sw-gui-verdict.h"
#include "sw-gui-window.h"

enum
{
  COL_ROW, /* SwGuiRow */
  N_COLS
};

struct _SwGuiWindow
{
  GtkApplicationWindow parent_instance;

  /* template children */
  GtkSearchEntry *search;
  GtkComboBoxText *filter;
  GtkLabel *status;
  GtkPaned *paned;
  GtkStack *list_stack;
  GtkTreeView *list;
  GtkLabel *list_empty;
  GtkStack *detail_stack;
  GtkScrolledWindow *details_scroll;

  SwGuiApp *app; /* borrowed: the application outlives its windows */
  SwGuiDetails *details;
  GtkListStore *model;
  GHashTable *ids; /* gint64* id -> GtkTreeRowReference of the rows listed */
  GCancellable *cancellable; /* of the current load; replaced by each reload */
  gulong verdict_added_id;

  int verdict_filter; /* -1: all */
  char *text;
  gboolean loading;
  guint next_offset; /* offset of the next page in the store's order */
  gint64 total;      /* records matching the filter, -1 unknown */
  gint64 load_started;
  double last_load_ms;

  gint64 details_id; /* shown in the details view */
  gint64 wanted_id;  /* to select as soon as its row is listed, 0: none */
};

G_DEFINE_FINAL_TYPE (SwGuiWindow, sw_gui_window, GTK_TYPE_APPLICATION_WINDOW)

static void load_page (SwGuiWindow *self, guint offset, guint limit, gboolean count);
static void update_status (SwGuiWindow *self);

/* ---- Reading the store in a worker ---- */

typedef struct
{
  SwStore *store; /* borrowed: outlives the application */
  int verdict_filter;
  char *text;
  guint offset;
  guint limit;
  gboolean count;
  /* results */
  GPtrArray *rows; /* SwGuiRow* */
  guint n_records;
  gint64 total;
} PageJob;

static void
page_job_free (PageJob *j)
{
  g_free (j->text);
  g_clear_pointer (&j->rows, g_ptr_array_unref);
  g_free (j);
}

static void
query_init (SwStoreQuery *q, int verdict_filter, const char *text)
{
  *q = (SwStoreQuery){ 0 };
  if (verdict_filter >= 0)
    {
      q->by_verdict = TRUE;
      q->verdict = (SwVerdict)verdict_filter;
    }
  q->text = text;
}

static void
page_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PageJob *j = task_data;
  SwStoreQuery q;
  query_init (&q, j->verdict_filter, j->text);
  GError *error = NULL;
  g_autoptr (GPtrArray) records = sw_store_list (j->store, &q, j->limit, j->offset, &error);
  if (records == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  j->n_records = records->len;
  j->rows = g_ptr_array_new_full (records->len, g_object_unref);
  for (guint i = 0; i < records->len; i++)
    g_ptr_array_add (j->rows, sw_gui_row_new (g_ptr_array_index (records, i)));
  j->total = -1;
  if (j->count && !sw_store_count (j->store, &q, &j->total, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* TRUE if @a is listed above @b: the store's order, verified_at then id, descending. */
static gboolean
row_is_newer (SwGuiRow *a, SwGuiRow *b)
{
  gint64 ta = sw_gui_row_get_verified_at (a), tb = sw_gui_row_get_verified_at (b);
  return ta != tb ? ta > tb : sw_gui_row_get_id (a) > sw_gui_row_get_id (b);
}

static SwGuiRow *row_at (GtkTreeModel *model, GtkTreeIter *iter);

/* Adds @row at the end (a page), or @at_top: in its place among the newest rows (new
 * verdicts arrive from several workers in any order; the place is nearly always 0). */
static void
append_row (SwGuiWindow *self, SwGuiRow *row, gboolean at_top)
{
  gint64 id = sw_gui_row_get_id (row);
  if (g_hash_table_contains (self->ids, &id))
    return;
  int position = -1;
  if (at_top)
    {
      GtkTreeModel *model = GTK_TREE_MODEL (self->model);
      GtkTreeIter it;
      position = 0;
      for (gboolean more = gtk_tree_model_get_iter_first (model, &it); more && row_is_newer (row_at (model, &it), row);
           more = gtk_tree_model_iter_next (model, &it))
        position++;
    }
  GtkTreeIter iter;
  gtk_list_store_insert_with_values (self->model, &iter, position, COL_ROW, row, -1);
  g_autoptr (GtkTreePath) path = gtk_tree_model_get_path (GTK_TREE_MODEL (self->model), &iter);
  gint64 *key = g_new (gint64, 1);
  *key = id;
  g_hash_table_insert (self->ids, key, gtk_tree_row_reference_new (GTK_TREE_MODEL (self->model), path));
}

static gboolean
select_id (SwGuiWindow *self, gint64 id)
{
  GtkTreeRowReference *ref = g_hash_table_lookup (self->ids, &id);
  if (ref == NULL || !gtk_tree_row_reference_valid (ref))
    return FALSE;
  g_autoptr (GtkTreePath) path = gtk_tree_row_reference_get_path (ref);
  gtk_tree_view_set_cursor (self->list, path, NULL, FALSE);
  gtk_tree_view_scroll_to_cell (self->list, path, NULL, FALSE, 0, 0);
  return TRUE;
}

static void
page_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SwGuiWindow) self = user_data; /* the task's reference */
  GTask *task = G_TASK (result);
  PageJob *j = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (task, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_warning ("cannot read the verdict store: %s", error->message);
      self->loading = FALSE;
      g_autofree char *msg = g_strdup_printf (_("Cannot read the verdicts: %s"), error->message);
      gtk_label_set_text (self->status, msg);
      return;
    }
  if (g_task_get_cancellable (task) != self->cancellable)
    return; /* a page of an older load: a reload has started since */
  if (j->count)
    self->total = j->total;
  for (guint i = 0; i < j->rows->len; i++)
    append_row (self, g_ptr_array_index (j->rows, i), FALSE);
  self->next_offset = j->offset + j->n_records;
  if (self->wanted_id != 0 && select_id (self, self->wanted_id))
    self->wanted_id = 0;
  if (j->n_records == j->limit && self->next_offset < SW_GUI_WINDOW_MAX_ROWS)
    {
      guint limit = MIN (SW_GUI_WINDOW_PAGE, SW_GUI_WINDOW_MAX_ROWS - self->next_offset);
      load_page (self, self->next_offset, limit, FALSE);
    }
  else
    {
      self->loading = FALSE;
      self->last_load_ms = (double)(g_get_monotonic_time () - self->load_started) / 1000.0;
      g_debug ("list loaded: %u rows in %.1f ms", sw_gui_window_get_n_rows (self), self->last_load_ms);
    }
  update_status (self);
}

static void
load_page (SwGuiWindow *self, guint offset, guint limit, gboolean count)
{
  PageJob *j = g_new0 (PageJob, 1);
  j->store = sw_gui_app_get_store (self->app);
  j->verdict_filter = self->verdict_filter;
  j->text = g_strdup (self->text);
  j->offset = offset;
  j->limit = limit;
  j->count = count;
  g_autoptr (GTask) task = g_task_new (NULL, self->cancellable, page_done, g_object_ref (self));
  g_task_set_source_tag (task, load_page);
  g_task_set_task_data (task, j, (GDestroyNotify)page_job_free);
  g_task_run_in_thread (task, page_thread);
}

void
sw_gui_window_reload (SwGuiWindow *self)
{
  g_return_if_fail (SW_IS_GUI_WINDOW (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  gint64 keep = self->details_id;
  g_hash_table_remove_all (self->ids);
  /* Detached while cleared: one signal per row would cost more than the clearing. */
  gtk_tree_view_set_model (self->list, NULL);
  gtk_list_store_clear (self->model);
  gtk_tree_view_set_model (self->list, GTK_TREE_MODEL (self->model));
  self->loading = TRUE;
  self->total = -1;
  self->next_offset = 0;
  self->load_started = g_get_monotonic_time ();
  if (keep != 0 && self->wanted_id == 0)
    self->wanted_id = keep;
  update_status (self);
  load_page (self, 0, SW_GUI_WINDOW_FIRST_PAGE, TRUE);
}

/* ---- New verdicts ---- */

typedef struct
{
  SwStore *store;
  gint64 id;
  SwGuiRow *row;
} GetJob;

static void
get_job_free (GetJob *j)
{
  g_clear_object (&j->row);
  g_free (j);
}

static void
get_row_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GetJob *j = task_data;
  GError *error = NULL;
  g_autoptr (SwStoreRecord) rec = sw_store_get (j->store, j->id, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (rec != NULL)
    j->row = sw_gui_row_new (rec);
  g_task_return_boolean (task, TRUE);
}

static void
verdict_row_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SwGuiWindow) self = user_data;
  GTask *task = G_TASK (result);
  GetJob *j = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (task, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("cannot read verdict %" G_GINT64_FORMAT ": %s", j->id, error->message);
      return;
    }
  if (self->ids == NULL)
    return; /* the window was closed meanwhile */
  if (j->row == NULL || !sw_gui_row_matches (j->row, self->verdict_filter, self->text))
    return;
  gint64 id = sw_gui_row_get_id (j->row);
  if (g_hash_table_contains (self->ids, &id))
    return;
  append_row (self, j->row, TRUE);
  if (self->total >= 0)
    self->total++;
  if (self->wanted_id == id && select_id (self, id))
    self->wanted_id = 0;
  update_status (self);
}

static void
on_verdict_added (SwGuiApp *app, gint64 record_id, SwGuiWindow *self)
{
  GetJob *j = g_new0 (GetJob, 1);
  j->store = sw_gui_app_get_store (self->app);
  j->id = record_id;
  /* Not the load's cancellable: a reload must not lose a verdict that arrives meanwhile. */
  g_autoptr (GTask) task = g_task_new (NULL, NULL, verdict_row_done, g_object_ref (self));
  g_task_set_task_data (task, j, (GDestroyNotify)get_job_free);
  g_task_run_in_thread (task, get_row_thread);
}

/* ---- Details of the selected message ---- */

typedef struct
{
  SwStore *store;
  gint64 id;
  SwStoreRecord *record;
} DetailsJob;

static void
details_job_free (DetailsJob *j)
{
  g_clear_pointer (&j->record, sw_store_record_free);
  g_free (j);
}

static void
details_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DetailsJob *j = task_data;
  GError *error = NULL;
  j->record = sw_store_get (j->store, j->id, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Looking at it is what "seen" means (the tray counts unseen messages). */
  if (j->record != NULL && !j->record->seen && !sw_store_set_seen (j->store, j->id, TRUE, NULL, &error))
    {
      g_message ("cannot mark verdict %" G_GINT64_FORMAT " as seen: %s", j->id, error->message);
      g_clear_error (&error);
    }
  g_task_return_boolean (task, TRUE);
}

static void
details_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SwGuiWindow) self = user_data;
  GTask *task = G_TASK (result);
  DetailsJob *j = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (task, &error))
    {
      g_warning ("cannot read verdict %" G_GINT64_FORMAT ": %s", j->id, error->message);
      return;
    }
  if (self->ids == NULL)
    return; /* the window was closed meanwhile */
  GtkTreeModel *model = NULL;
  GtkTreeIter iter;
  if (!gtk_tree_selection_get_selected (gtk_tree_view_get_selection (self->list), &model, &iter))
    return;
  g_autoptr (SwGuiRow) row = NULL;
  gtk_tree_model_get (model, &iter, COL_ROW, &row, -1);
  if (row == NULL || sw_gui_row_get_id (row) != j->id || j->record == NULL)
    return; /* the selection moved on meanwhile, or the record is gone */
  sw_gui_details_set_record (self->details, j->record);
  self->details_id = j->id;
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->details_scroll), 0);
  gtk_stack_set_visible_child_name (self->detail_stack, "details");
  if (!sw_gui_row_get_seen (row))
    {
      sw_gui_row_set_seen (row, TRUE);
      g_autoptr (GtkTreePath) path = gtk_tree_model_get_path (model, &iter);
      gtk_tree_model_row_changed (model, path, &iter);
      sw_gui_app_seen_changed (self->app);
    }
}

static void
on_selection_changed (GtkTreeSelection *selection, SwGuiWindow *self)
{
  GtkTreeModel *model = NULL;
  GtkTreeIter iter;
  if (!gtk_tree_selection_get_selected (selection, &model, &iter))
    return; /* keep showing the last details: a reload empties the list for a moment */
  g_autoptr (SwGuiRow) row = NULL;
  gtk_tree_model_get (model, &iter, COL_ROW, &row, -1);
  if (row == NULL || sw_gui_row_get_id (row) == self->details_id)
    return;
  DetailsJob *j = g_new0 (DetailsJob, 1);
  j->store = sw_gui_app_get_store (self->app);
  j->id = sw_gui_row_get_id (row);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, details_done, g_object_ref (self));
  g_task_set_task_data (task, j, (GDestroyNotify)details_job_free);
  g_task_run_in_thread (task, details_thread);
}

/* ---- The list's cells ---- */

static SwGuiRow *
row_at (GtkTreeModel *model, GtkTreeIter *iter)
{
  SwGuiRow *row = NULL;
  gtk_tree_model_get (model, iter, COL_ROW, &row, -1);
  if (row != NULL)
    g_object_unref (row); /* the model keeps it alive */
  return row;
}

static void
set_weight (GtkCellRenderer *cell, SwGuiRow *row)
{
  g_object_set (cell, "weight", sw_gui_row_get_seen (row) ? PANGO_WEIGHT_NORMAL : PANGO_WEIGHT_BOLD, NULL);
}

static void
chip_icon_data (GtkTreeViewColumn *col, GtkCellRenderer *cell, GtkTreeModel *model, GtkTreeIter *iter,
                gpointer data)
{
  SwGuiRow *row = row_at (model, iter);
  g_object_set (cell, "icon-name", row ? sw_gui_verdict_icon_name (sw_gui_row_get_verdict (row)) : NULL, NULL);
}

static void
chip_word_data (GtkTreeViewColumn *col, GtkCellRenderer *cell, GtkTreeModel *model, GtkTreeIter *iter,
                gpointer data)
{
  SwGuiRow *row = row_at (model, iter);
  if (row == NULL)
    return;
  g_object_set (cell, "text", sw_gui_verdict_word (sw_gui_row_get_verdict (row)), NULL);
  set_weight (cell, row);
}

typedef enum
{
  FIELD_FROM,
  FIELD_SUBJECT,
  FIELD_ACCOUNT,
  FIELD_TIME
} Field;

static void
text_data (GtkTreeViewColumn *col, GtkCellRenderer *cell, GtkTreeModel *model, GtkTreeIter *iter, gpointer data)
{
  SwGuiRow *row = row_at (model, iter);
  if (row == NULL)
    return;
  switch ((Field)GPOINTER_TO_INT (data))
    {
    case FIELD_FROM:
      {
        const char *from = sw_gui_row_get_from (row);
        g_object_set (cell, "text", *from ? from : sw_gui_row_get_from_domain (row), NULL);
        break;
      }
    case FIELD_SUBJECT:
      {
        const char *subject = sw_gui_row_get_subject (row);
        g_object_set (cell, "text", *subject ? subject : _("(no subject)"), NULL);
        break;
      }
    case FIELD_ACCOUNT:
      g_object_set (cell, "text", sw_gui_row_get_account (row), NULL);
      break;
    case FIELD_TIME:
      {
        g_autofree char *t = sw_gui_row_format_time (row);
        g_object_set (cell, "text", t, NULL);
        break;
      }
    }
  set_weight (cell, row);
}

static GtkTreeViewColumn *
text_column (SwGuiWindow *self, const char *title, Field field, int width, gboolean expand)
{
  GtkCellRenderer *cell = gtk_cell_renderer_text_new ();
  g_object_set (cell, "ellipsize", PANGO_ELLIPSIZE_END, NULL);
  GtkTreeViewColumn *col = gtk_tree_view_column_new ();
  gtk_tree_view_column_set_title (col, title);
  gtk_tree_view_column_pack_start (col, cell, TRUE);
  gtk_tree_view_column_set_cell_data_func (col, cell, text_data, GINT_TO_POINTER (field), NULL);
  gtk_tree_view_column_set_sizing (col, GTK_TREE_VIEW_COLUMN_FIXED);
  gtk_tree_view_column_set_fixed_width (col, width);
  gtk_tree_view_column_set_resizable (col, TRUE);
  gtk_tree_view_column_set_expand (col, expand);
  gtk_tree_view_append_column (self->list, col);
  return col;
}

static void
build_columns (SwGuiWindow *self)
{
  GtkTreeViewColumn *chip = gtk_tree_view_column_new ();
  gtk_tree_view_column_set_title (chip, _("Verdict"));
  GtkCellRenderer *icon = gtk_cell_renderer_pixbuf_new ();
  g_object_set (icon, "stock-size", GTK_ICON_SIZE_MENU, NULL);
  gtk_tree_view_column_pack_start (chip, icon, FALSE);
  gtk_tree_view_column_set_cell_data_func (chip, icon, chip_icon_data, NULL, NULL);
  GtkCellRenderer *word = gtk_cell_renderer_text_new ();
  gtk_tree_view_column_pack_start (chip, word, TRUE);
  gtk_tree_view_column_set_cell_data_func (chip, word, chip_word_data, NULL, NULL);
  gtk_tree_view_column_set_sizing (chip, GTK_TREE_VIEW_COLUMN_FIXED);
  gtk_tree_view_column_set_fixed_width (chip, 150);
  gtk_tree_view_column_set_resizable (chip, TRUE);
  gtk_tree_view_append_column (self->list, chip);

  text_column (self, _("From"), FIELD_FROM, 180, FALSE);
  text_column (self, _("Subject"), FIELD_SUBJECT, 200, TRUE);
  text_column (self, _("Account"), FIELD_ACCOUNT, 70, FALSE);
  text_column (self, _("Time"), FIELD_TIME, 70, FALSE);
}

/* The chip's tooltip says what the verdict means; other cells show their full text. */
static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, SwGuiWindow *self)
{
  GtkTreeModel *model = NULL;
  g_autoptr (GtkTreePath) path = NULL;
  GtkTreeIter iter;
  if (!gtk_tree_view_get_tooltip_context (self->list, &x, &y, keyboard, &model, &path, &iter))
    return FALSE;
  SwGuiRow *row = row_at (model, &iter);
  if (row == NULL)
    return FALSE;
  GtkTreeViewColumn *column = NULL;
  if (!keyboard)
    gtk_tree_view_get_path_at_pos (self->list, x, y, NULL, &column, NULL, NULL);
  SwVerdict v = sw_gui_row_get_verdict (row);
  g_autofree char *text = NULL;
  if (column == NULL || column == gtk_tree_view_get_column (self->list, 0))
    text = g_strdup_printf ("%s: %s", sw_gui_verdict_word (v), sw_gui_verdict_tooltip (v));
  else
    text = g_strdup_printf ("%s\n%s\n%s: %s", sw_gui_row_get_from (row), sw_gui_row_get_subject (row),
                            sw_gui_verdict_word (v), sw_gui_verdict_tooltip (v));
  gtk_tooltip_set_text (tooltip, text);
  gtk_tree_view_set_tooltip_row (self->list, tooltip, path);
  return TRUE;
}

/* ---- Filter, search, status ---- */

static void
update_status (SwGuiWindow *self)
{
  guint n = sw_gui_window_get_n_rows (self);
  g_autofree char *text = NULL;
  if (self->loading && n == 0)
    text = g_strdup (_("Loading…"));
  else if (self->total > (gint64)n && !self->loading)
    text = g_strdup_printf (_("Showing the newest %u of %lld messages; search to find older ones"), n,
                            (long long)self->total);
  else if (self->total >= 0)
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%lld message", "%lld messages", (gulong)self->total),
                            (long long)self->total);
  gtk_label_set_text (self->status, text ? text : "");

  if (n > 0 || self->loading)
    gtk_stack_set_visible_child_name (self->list_stack, "list");
  else
    {
      gboolean filtered = self->verdict_filter >= 0 || (self->text && *self->text);
      gtk_label_set_text (self->list_empty,
                          filtered ? _("No message matches the filter.")
                                   : _("No messages yet.\n\nPoint your mail client at Spoofwatch (see Settings for "
                                       "the address to type in), or fetch the demo mailbox: POP3 server 127.0.0.1, "
                                       "user demo, password demo. Each message you download appears here with its "
                                       "verdict."));
      gtk_stack_set_visible_child_name (self->list_stack, "empty");
    }
}

static void
filter_changed (SwGuiWindow *self)
{
  const char *id = gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->filter));
  SwVerdict v;
  int verdict = id != NULL && sw_verdict_from_string (id, &v) ? (int)v : -1;
  const char *text = gtk_entry_get_text (GTK_ENTRY (self->search));
  if (verdict == self->verdict_filter && g_strcmp0 (text, self->text ? self->text : "") == 0)
    return;
  self->verdict_filter = verdict;
  g_free (self->text);
  self->text = g_strdup (text);
  sw_gui_window_reload (self);
}

static void
on_search_changed (GtkSearchEntry *entry, SwGuiWindow *self)
{
  filter_changed (self);
}

static void
on_filter_changed (GtkComboBox *combo, SwGuiWindow *self)
{
  filter_changed (self);
}

static void
on_stop_search (GtkSearchEntry *entry, SwGuiWindow *self)
{
  gtk_entry_set_text (GTK_ENTRY (entry), "");
  gtk_widget_grab_focus (GTK_WIDGET (self->list));
}

static void
action_search (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SwGuiWindow *self = user_data;
  gtk_widget_grab_focus (GTK_WIDGET (self->search));
}

static void
action_copy_report (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SwGuiWindow *self = user_data;
  sw_gui_details_copy_report (self->details);
}

/* ---- The class ---- */

static void
sw_gui_window_dispose (GObject *object)
{
  SwGuiWindow *self = SW_GUI_WINDOW (object);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->app != NULL && self->verdict_added_id != 0)
    g_clear_signal_handler (&self->verdict_added_id, self->app);
  g_clear_pointer (&self->ids, g_hash_table_unref);
  g_clear_object (&self->model);
  G_OBJECT_CLASS (sw_gui_window_parent_class)->dispose (object);
}

static void
sw_gui_window_finalize (GObject *object)
{
  SwGuiWindow *self = SW_GUI_WINDOW (object);
  g_free (self->text);
  G_OBJECT_CLASS (sw_gui_window_parent_class)->finalize (object);
}

static void
sw_gui_window_class_init (SwGuiWindowClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = sw_gui_window_dispose;
  oc->finalize = sw_gui_window_finalize;
  gtk_widget_class_set_template_from_resource (wc, "/org/spoofwatch/Spoofwatch/ui/window.ui");
  gtk_widget_class_bind_template_child (wc, SwGuiWindow, search);
  gtk_widget_class_bind_template_child (wc, SwGuiWindow, filter);
  gtk_widget_class_bind_template_child (wc, SwGuiWindow, status);
  gtk_widget_class_bind_template_child (wc, SwGuiWindow, paned);
  gtk_widget_class_bind_template_child (wc, SwGuiWindow, list_stack);
  gtk_widget_class_bind_template_child (wc, SwGuiWindow, list);
  gtk_widget_class_bind_template_child (wc, SwGuiWindow, list_empty);
  gtk_widget_class_bind_template_child (wc, SwGuiWindow, detail_stack);
  gtk_widget_class_bind_template_child (wc, SwGuiWindow, details_scroll);
}

static void
sw_gui_window_init (SwGuiWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->verdict_filter = -1;
  self->total = -1;
  self->ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                     (GDestroyNotify)gtk_tree_row_reference_free);
  self->model = gtk_list_store_new (N_COLS, SW_TYPE_GUI_ROW);
  gtk_tree_view_set_model (self->list, GTK_TREE_MODEL (self->model));
  build_columns (self);
  gtk_tree_selection_set_mode (gtk_tree_view_get_selection (self->list), GTK_SELECTION_BROWSE);
  g_signal_connect (gtk_tree_view_get_selection (self->list), "changed", G_CALLBACK (on_selection_changed), self);
  g_signal_connect (self->list, "query-tooltip", G_CALLBACK (on_query_tooltip), self);

  gtk_combo_box_text_append (self->filter, "all", _("All verdicts"));
  for (int v = 0; v < SW_VERDICT_COUNT; v++)
    gtk_combo_box_text_append (self->filter, sw_verdict_to_string ((SwVerdict)v),
                               sw_gui_verdict_word ((SwVerdict)v));
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->filter), "all");
  g_signal_connect (self->filter, "changed", G_CALLBACK (on_filter_changed), self);
  g_signal_connect (self->search, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect (self->search, "stop-search", G_CALLBACK (on_stop_search), self);

  self->details = SW_GUI_DETAILS (sw_gui_details_new ());
  gtk_container_add (GTK_CONTAINER (self->details_scroll), GTK_WIDGET (self->details));
  gtk_widget_show (GTK_WIDGET (self->details));

  const GActionEntry actions[] = {
    { "search", action_search, NULL, NULL, NULL, { 0 } },
    { "copy-report", action_copy_report, NULL, NULL, NULL, { 0 } },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);
}

SwGuiWindow *
sw_gui_window_new (SwGuiApp *app)
{
  g_return_val_if_fail (SW_IS_GUI_APP (app), NULL);
  SwGuiWindow *self = g_object_new (SW_TYPE_GUI_WINDOW, "application", app, NULL);
  self->app = app;
  self->verdict_added_id = g_signal_connect (app, "verdict-added", G_CALLBACK (on_verdict_added), self);
  sw_gui_window_reload (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->list));
  return self;
}

void
sw_gui_window_show_record (SwGuiWindow *self, gint64 record_id)
{
  g_return_if_fail (SW_IS_GUI_WINDOW (self));
  if (select_id (self, record_id))
    return;
  self->wanted_id = record_id;
  if (self->verdict_filter >= 0 || (self->text && *self->text))
    sw_gui_window_set_filter (self, -1, NULL); /* reloads, then selects it */
  else
    on_verdict_added (self->app, record_id, self); /* newer than the list, or not read yet */
}

void
sw_gui_window_set_filter (SwGuiWindow *self, int verdict, const char *text)
{
  g_return_if_fail (SW_IS_GUI_WINDOW (self));
  g_signal_handlers_block_by_func (self->filter, on_filter_changed, self);
  g_signal_handlers_block_by_func (self->search, on_search_changed, self);
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->filter),
                               verdict >= 0 && verdict < SW_VERDICT_COUNT ? sw_verdict_to_string ((SwVerdict)verdict)
                                                                          : "all");
  gtk_entry_set_text (GTK_ENTRY (self->search), text ? text : "");
  g_signal_handlers_unblock_by_func (self->filter, on_filter_changed, self);
  g_signal_handlers_unblock_by_func (self->search, on_search_changed, self);
  filter_changed (self);
}

gboolean
sw_gui_window_is_loading (SwGuiWindow *self)
{
  g_return_val_if_fail (SW_IS_GUI_WINDOW (self), FALSE);
  return self->loading;
}

guint
sw_gui_window_get_n_rows (SwGuiWindow *self)
{
  g_return_val_if_fail (SW_IS_GUI_WINDOW (self), 0);
  return (guint)gtk_tree_model_iter_n_children (GTK_TREE_MODEL (self->model), NULL);
}

gint64
sw_gui_window_get_total (SwGuiWindow *self)
{
  g_return_val_if_fail (SW_IS_GUI_WINDOW (self), -1);
  return self->total;
}

gint64
sw_gui_window_get_details_id (SwGuiWindow *self)
{
  g_return_val_if_fail (SW_IS_GUI_WINDOW (self), 0);
  return self->details_id;
}

SwGuiRow *
sw_gui_window_get_row (SwGuiWindow *self, guint position)
{
  g_return_val_if_fail (SW_IS_GUI_WINDOW (self), NULL);
  GtkTreeIter iter;
  if (!gtk_tree_model_iter_nth_child (GTK_TREE_MODEL (self->model), &iter, NULL, (int)position))
    return NULL;
  return row_at (GTK_TREE_MODEL (self->model), &iter);
}

void
sw_gui_window_scroll_details (SwGuiWindow *self, double fraction)
{
  g_return_if_fail (SW_IS_GUI_WINDOW (self));
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->details_scroll);
  double range = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);
  gtk_adjustment_set_value (adj, CLAMP (fraction, 0.0, 1.0) * MAX (range, 0.0));
}

double
sw_gui_window_get_last_load_ms (SwGuiWindow *self)
{
  g_return_val_if_fail (SW_IS_GUI_WINDOW (self), 0);
  return self->last_load_ms;
}

gboolean
sw_gui_window_save_screenshot (SwGuiWindow *self, const char *path, GError **error)
{
  g_return_val_if_fail (SW_IS_GUI_WINDOW (self), FALSE);
  GdkWindow *gw = gtk_widget_get_window (GTK_WIDGET (self));
  if (gw == NULL || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window is not shown");
      return FALSE;
    }
  /* What the X server shows (header buttons and all), not a re-rendering. */
  gdk_display_sync (gdk_window_get_display (gw));
  g_autoptr (GdkPixbuf) shot
      = gdk_pixbuf_get_from_window (gw, 0, 0, gdk_window_get_width (gw), gdk_window_get_height (gw));
  if (shot == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read the window's pixels");
      return FALSE;
    }
  g_autofree char *tmp = g_strconcat (path, ".part", NULL);
  if (!gdk_pixbuf_save (shot, tmp, "png", error, NULL))
    return FALSE;
  if (g_rename (tmp, path) != 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot rename %s: %s", tmp, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}
