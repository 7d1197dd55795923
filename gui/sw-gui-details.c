#define G_LOG_DOMAIN "sw-gui"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "sw-gui-details.h"
#include "sw-gui-verdict.h"

/* ---- The evidence as sections of "label: value" lines, shared by the view and the
 * text report so that both always say the same. ---- */

typedef struct
{
  char *label;
  char *value;
} Item;

typedef struct
{
  char *title;
  char *note; /* a sentence under the title, or NULL */
  GPtrArray *items; /* Item* */
} Section;

static void
item_free (Item *it)
{
  g_free (it->label);
  g_free (it->value);
  g_free (it);
}

static void
section_free (Section *s)
{
  g_free (s->title);
  g_free (s->note);
  g_ptr_array_unref (s->items);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Section, section_free)

static Section *
section_new (GPtrArray *sections, const char *title)
{
  Section *s = g_new0 (Section, 1);
  s->title = g_strdup (title);
  s->items = g_ptr_array_new_with_free_func ((GDestroyNotify)item_free);
  g_ptr_array_add (sections, s);
  return s;
}

/* Adds "label: value" unless @value is NULL or "". */
static void
add (Section *s, const char *label, const char *value)
{
  if (value == NULL || *value == '\0')
    return;
  Item *it = g_new0 (Item, 1);
  it->label = g_strdup (label);
  it->value = g_strdup (value);
  g_ptr_array_add (s->items, it);
}

static void
add_take (Section *s, const char *label, char *value)
{
  add (s, label, value);
  g_free (value);
}

/* A string member, NULL when absent, null or not a string. */
static const char *
jstr (JsonObject *o, const char *member)
{
  if (o == NULL || !json_object_has_member (o, member))
    return NULL;
  JsonNode *n = json_object_get_member (o, member);
  if (n == NULL || JSON_NODE_TYPE (n) != JSON_NODE_VALUE || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gint64
jint (JsonObject *o, const char *member, gint64 fallback)
{
  if (o == NULL || !json_object_has_member (o, member))
    return fallback;
  JsonNode *n = json_object_get_member (o, member);
  if (n == NULL || JSON_NODE_TYPE (n) != JSON_NODE_VALUE || json_node_get_value_type (n) != G_TYPE_INT64)
    return fallback;
  return json_node_get_int (n);
}

static gboolean
jbool (JsonObject *o, const char *member)
{
  if (o == NULL || !json_object_has_member (o, member))
    return FALSE;
  JsonNode *n = json_object_get_member (o, member);
  return n != NULL && JSON_NODE_TYPE (n) == JSON_NODE_VALUE && json_node_get_value_type (n) == G_TYPE_BOOLEAN
         && json_node_get_boolean (n);
}

static JsonObject *
jobj (JsonObject *o, const char *member)
{
  if (o == NULL || !json_object_has_member (o, member))
    return NULL;
  JsonNode *n = json_object_get_member (o, member);
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
jarr (JsonObject *o, const char *member)
{
  if (o == NULL || !json_object_has_member (o, member))
    return NULL;
  JsonNode *n = json_object_get_member (o, member);
  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

/* Where an envelope value came from (SwSource words of docs/json.md), for a person. */
static const char *
source_phrase (const char *source)
{
  static const struct
  {
    const char *word;
    const char *phrase;
  } sources[] = {
    { "received-auto", N_("from your provider's Received: header, found automatically") },
    { "received-hosts", N_("from your provider's Received: header, found by the account's provider hosts") },
    { "received-hops", N_("from your provider's Received: header, found by the account's hop count") },
    { "return-path", N_("from the Return-Path: header written on delivery") },
    { "received-envfrom", N_("from the envelope-from of your provider's Received: header") },
    { "helo-postmaster", N_("postmaster at the HELO name (the message has no sender address)") },
    { "trusted-authres", N_("from your provider's own Authentication-Results") },
    { "given", N_("given by hand") },
    { "none", N_("not found") },
  };
  if (source == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (sources); i++)
    if (g_strcmp0 (source, sources[i].word) == 0)
      return _(sources[i].phrase);
  return source;
}

/* "value (where it came from)". Transfer full; NULL when @value is NULL. */
static char *
with_source (const char *value, const char *source)
{
  if (value == NULL || *value == '\0')
    return NULL;
  const char *phrase = source_phrase (source);
  return phrase ? g_strdup_printf ("%s (%s)", value, phrase) : g_strdup (value);
}

static char *
format_unix_time (gint64 t)
{
  if (t <= 0)
    return NULL;
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (t);
  /* TRANSLATORS: a full date and time in the details, g_date_time_format() */
  return dt ? g_date_time_format (dt, _("%Y-%m-%d %H:%M:%S")) : NULL;
}

static void
sections_sender (GPtrArray *sections, const SwStoreRecord *r, JsonObject *root)
{
  Section *s = section_new (sections, _("Message"));
  add (s, _("From"), r->from_header);
  add (s, _("Subject"), r->subject);
  add (s, _("From domain"), r->from_domain);
  add (s, _("Organizational domain"), jstr (root, "org_domain"));
  add (s, _("Message-ID"), r->message_id);
  add (s, _("Mailing list"), jstr (root, "list_id"));
  add (s, _("Account"), r->account);
  add_take (s, _("Checked at"), format_unix_time (r->verified_at));
  add (s, _("Problem"), jstr (root, "error"));
}

static void
sections_spf (GPtrArray *sections, JsonObject *root)
{
  JsonObject *env = jobj (root, "envelope");
  JsonObject *spf = jobj (root, "spf");
  Section *s = section_new (sections, _("SPF: the server that sent it"));
  s->note = g_strdup (_("SPF checks whether the sending server's IP address is listed by the domain of the "
                        "envelope sender (mail-from)."));
  add (s, _("Result"), jstr (spf, "result"));
  add (s, _("Checked domain"), jstr (spf, "domain"));
  add_take (s, _("Sending IP address"),
            with_source (jstr (env, "ip") ? jstr (env, "ip") : jstr (spf, "ip"), jstr (env, "ip_source")));
  add_take (s, _("HELO name"),
            with_source (jstr (env, "helo") ? jstr (env, "helo") : jstr (spf, "helo"), jstr (env, "helo_source")));
  add_take (s, _("Mail-from"),
            with_source (jstr (env, "mail_from") ? jstr (env, "mail_from") : jstr (spf, "mail_from"),
                         jstr (env, "mail_from_source")));
  add (s, _("How the envelope was found"), jstr (env, "reason"));
  add (s, _("SPF record"), jstr (spf, "record"));
  add (s, _("Reason"), jstr (spf, "reason"));
  add (s, _("Explanation by the domain"), jstr (spf, "explanation"));
  JsonObject *helo = jobj (root, "spf_helo");
  if (helo != NULL)
    {
      const char *res = jstr (helo, "result");
      const char *why = jstr (helo, "reason");
      add_take (s, _("HELO check"),
                res ? g_strdup_printf ("%s%s%s", res, why ? ", " : "", why ? why : "") : NULL);
    }
  if (s->items->len == 0)
    add (s, _("Result"), _("not checked"));
}

static void
sections_dkim (GPtrArray *sections, JsonObject *root)
{
  JsonArray *sigs = jarr (root, "dkim");
  JsonObject *dmarc = jobj (root, "dmarc");
  const char *aligned_domain = jstr (dmarc, "aligned_dkim_domain");
  guint n = sigs ? json_array_get_length (sigs) : 0;
  if (n == 0)
    {
      Section *s = section_new (sections, _("DKIM: signatures"));
      add (s, _("Signatures"), _("none: the message carries no DKIM signature"));
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (sigs, i);
      JsonObject *sig = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      g_autofree char *title = g_strdup_printf (_("DKIM: signature %u of %u"), i + 1, n);
      Section *s = section_new (sections, title);
      const char *domain = jstr (sig, "domain");
      add (s, _("Result"), jstr (sig, "result"));
      add (s, _("Signing domain (d=)"), domain);
      add (s, _("Selector (s=)"), jstr (sig, "selector"));
      add (s, _("Algorithm"), jstr (sig, "algorithm"));
      gint64 bits = jint (sig, "key_bits", 0);
      add_take (s, _("Key size"), bits > 0 ? g_strdup_printf (_("%d bits"), (int)MIN (bits, G_MAXINT)) : NULL);
      add (s, _("Reason"), jstr (sig, "reason"));
      add (s, _("Aligned with From:"),
           domain != NULL && g_strcmp0 (domain, aligned_domain) == 0 ? _("yes") : _("no"));
      if (jbool (sig, "body_length_limited"))
        add (s, _("Warning"), _("the signature covers only part of the body (l=)"));
    }
}

static void
sections_dmarc (GPtrArray *sections, JsonObject *root)
{
  JsonObject *d = jobj (root, "dmarc");
  Section *s = section_new (sections, _("DMARC: the policy of the From: domain"));
  s->note = g_strdup (_("DMARC passes when SPF or DKIM passes for a domain aligned with the From: domain."));
  if (d == NULL)
    {
      add (s, _("Result"), _("not checked"));
      return;
    }
  add (s, _("Result"), jstr (d, "result"));
  add (s, _("Policy applied"), jstr (d, "policy"));
  add (s, _("Policy published"), jstr (d, "policy_published"));
  if (jbool (d, "testing"))
    add (s, _("Test mode"), _("yes: the domain asks receivers not to act on failures yet"));
  add (s, _("Record"), jstr (d, "record"));
  add (s, _("Record found at"), jstr (d, "record_domain"));
  JsonArray *by = jarr (d, "aligned_by");
  GString *al = g_string_new (NULL);
  for (guint i = 0; by && i < json_array_get_length (by); i++)
    {
      const char *m = json_array_get_string_element (by, i);
      if (m == NULL)
        continue;
      if (al->len)
        g_string_append (al, ", ");
      g_autofree char *up = g_ascii_strup (m, -1);
      g_string_append (al, up);
    }
  const char *dkim_domain = jstr (d, "aligned_dkim_domain");
  if (dkim_domain != NULL)
    g_string_append_printf (al, " (d=%s)", dkim_domain);
  if (al->len == 0)
    g_string_append (al, _("nothing"));
  add_take (s, _("Aligned by"), g_string_free (al, FALSE));
  JsonObject *tags = jobj (d, "tags");
  const char *adkim = jstr (tags, "adkim");
  const char *aspf = jstr (tags, "aspf");
  if (adkim != NULL || aspf != NULL)
    add_take (s, _("Alignment mode"),
              g_strdup_printf ("adkim=%s aspf=%s", adkim ? adkim : "r", aspf ? aspf : "r"));
  add (s, _("Reason"), jstr (d, "reason"));
}

static void
sections_providers (GPtrArray *sections, JsonObject *root)
{
  JsonArray *pr = jarr (root, "provider_results");
  guint n = pr ? json_array_get_length (pr) : 0;
  Section *s = section_new (sections, _("Results of your trusted provider"));
  if (n == 0)
    {
      add (s, _("Results"), _("none recorded"));
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (pr, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *method = jstr (o, "method");
      const char *result = jstr (o, "result");
      const char *detail = jstr (o, "detail");
      const char *id = jstr (o, "authserv_id");
      g_autofree char *label = g_strdup_printf ("%s (%s)", method ? method : "?", id ? id : "?");
      add_take (s, label,
                g_strdup_printf ("%s%s%s", result ? result : "?", detail ? ", " : "", detail ? detail : ""));
    }
}

/* Sections of @r (transfer full). */
static GPtrArray *
evidence_sections (const SwStoreRecord *r)
{
  GPtrArray *sections = g_ptr_array_new_with_free_func ((GDestroyNotify)section_free);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = NULL;
  if (r->evidence_json != NULL && json_parser_load_from_data (parser, r->evidence_json, -1, NULL))
    {
      JsonNode *n = json_parser_get_root (parser);
      if (n != NULL && JSON_NODE_HOLDS_OBJECT (n))
        root = json_node_get_object (n);
    }
  if (root == NULL || jbool (root, "truncated"))
    {
      Section *s = section_new (sections, _("Evidence"));
      add (s, _("Evidence"),
           root ? _("too large to keep: only the verdict and the explanation were stored")
                : _("not available for this message"));
    }
  else
    {
      sections_spf (sections, root);
      sections_dkim (sections, root);
      sections_dmarc (sections, root);
      sections_providers (sections, root);
    }
  sections_sender (sections, r, root);
  return sections;
}

char *
sw_gui_details_report_text (const SwStoreRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  GString *out = g_string_new (NULL);
  g_string_append_printf (out, "%s: %s (%s)\n", _("Spoofwatch verdict"), sw_gui_verdict_word (record->verdict),
                          sw_verdict_to_string (record->verdict));
  g_string_append_printf (out, "%s\n", sw_gui_verdict_tooltip (record->verdict));
  if (record->explanation != NULL)
    g_string_append_printf (out, "\n%s\n", record->explanation);
  g_autoptr (GPtrArray) sections = evidence_sections (record);
  for (guint i = 0; i < sections->len; i++)
    {
      Section *s = g_ptr_array_index (sections, i);
      g_string_append_printf (out, "\n== %s ==\n", s->title);
      for (guint j = 0; j < s->items->len; j++)
        {
          Item *it = g_ptr_array_index (s->items, j);
          g_string_append_printf (out, "%s: %s\n", it->label, it->value);
        }
    }
  return g_string_free (out, FALSE);
}

/* ---- The widget ---- */

struct _SwGuiDetails
{
  GtkBox parent_instance;
  SwStoreRecord *record;
  GtkWidget *chip;        /* GtkImage */
  GtkWidget *word;        /* GtkLabel with the verdict's CSS class */
  GtkWidget *meaning;     /* what the verdict means */
  GtkWidget *subject;
  GtkWidget *explanation;
  GtkWidget *copy_button;
  GtkWidget *copied;      /* "Copied" confirmation */
  GtkWidget *evidence;    /* GtkBox of sections */
  GtkSizeGroup *keys;     /* the label column of every section, so values line up */
  GtkWidget *sender;      /* "From ... · account · time" under the subject */
  guint copied_timeout;
};

G_DEFINE_FINAL_TYPE (SwGuiDetails, sw_gui_details, GTK_TYPE_BOX)

static void
sw_gui_details_finalize (GObject *object)
{
  SwGuiDetails *self = SW_GUI_DETAILS (object);
  g_clear_pointer (&self->record, sw_store_record_free);
  g_clear_handle_id (&self->copied_timeout, g_source_remove);
  g_clear_object (&self->keys);
  G_OBJECT_CLASS (sw_gui_details_parent_class)->finalize (object);
}

static void
sw_gui_details_class_init (SwGuiDetailsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sw_gui_details_finalize;
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "sw-details");
}

static GtkWidget *
label_new (const char *text, const char *css_class, gboolean wrap)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0.0f);
  gtk_label_set_line_wrap (GTK_LABEL (l), wrap);
  gtk_label_set_line_wrap_mode (GTK_LABEL (l), PANGO_WRAP_WORD_CHAR);
  if (css_class != NULL)
    gtk_style_context_add_class (gtk_widget_get_style_context (l), css_class);
  return l;
}

static gboolean
copied_hide (gpointer user_data)
{
  SwGuiDetails *self = user_data;
  self->copied_timeout = 0;
  gtk_widget_set_visible (self->copied, FALSE);
  return G_SOURCE_REMOVE;
}

static void
on_copy_clicked (GtkButton *button, SwGuiDetails *self)
{
  sw_gui_details_copy_report (self);
}

static void
sw_gui_details_init (SwGuiDetails *self)
{
  GtkBox *box = GTK_BOX (self);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 12);
  g_object_set (self, "margin", 18, NULL);

  /* Chip, word and what it means. */
  GtkWidget *head = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->chip = gtk_image_new ();
  gtk_image_set_pixel_size (GTK_IMAGE (self->chip), 48);
  gtk_widget_set_valign (self->chip, GTK_ALIGN_START);
  GtkWidget *head_text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  self->word = label_new (NULL, "sw-verdict-title", FALSE);
  gtk_widget_set_halign (self->word, GTK_ALIGN_START);
  self->meaning = label_new (NULL, NULL, TRUE);
  self->subject = label_new (NULL, "sw-details-subject", TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->subject), TRUE);
  gtk_widget_set_can_focus (self->subject, FALSE);
  gtk_box_pack_start (GTK_BOX (head_text), self->word, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (head_text), self->meaning, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (head), self->chip, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (head), head_text, TRUE, TRUE, 0);
  gtk_box_pack_start (box, head, FALSE, FALSE, 0);
  gtk_box_pack_start (box, self->subject, FALSE, FALSE, 0);
  self->sender = label_new (NULL, "dim-label", TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->sender), TRUE);
  gtk_widget_set_can_focus (self->sender, FALSE);
  gtk_box_pack_start (box, self->sender, FALSE, FALSE, 0);
  self->keys = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);

  /* The explanation first. */
  GtkWidget *why = label_new (_("Why"), "sw-section-title", FALSE);
  self->explanation = label_new (NULL, "sw-explanation", TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->explanation), TRUE);
  gtk_widget_set_can_focus (self->explanation, FALSE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (why), self->explanation);
  gtk_box_pack_start (box, why, FALSE, FALSE, 0);
  gtk_box_pack_start (box, self->explanation, FALSE, FALSE, 0);

  GtkWidget *actions = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  self->copy_button = gtk_button_new_with_mnemonic (_("_Copy report"));
  gtk_widget_set_tooltip_text (self->copy_button,
                               _("Copy the verdict, the explanation and the evidence as text, for example "
                                 "to send to your IT support"));
  atk_object_set_name (gtk_widget_get_accessible (self->copy_button), _("Copy report"));
  g_signal_connect (self->copy_button, "clicked", G_CALLBACK (on_copy_clicked), self);
  self->copied = label_new (_("Report copied to the clipboard."), "dim-label", FALSE);
  gtk_box_pack_start (GTK_BOX (actions), self->copy_button, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (actions), self->copied, FALSE, FALSE, 0);
  gtk_box_pack_start (box, actions, FALSE, FALSE, 0);

  self->evidence = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  gtk_box_pack_start (box, self->evidence, FALSE, FALSE, 0);
  gtk_widget_show_all (GTK_WIDGET (self));
  gtk_widget_set_no_show_all (self->copied, TRUE);
  gtk_widget_hide (self->copied);
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self)), _("Message details"));
}

GtkWidget *
sw_gui_details_new (void)
{
  return g_object_new (SW_TYPE_GUI_DETAILS, NULL);
}

static GtkWidget *
section_widget (SwGuiDetails *self, const Section *s)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *title = label_new (s->title, "sw-section-title", TRUE);
  gtk_box_pack_start (GTK_BOX (box), title, FALSE, FALSE, 0);
  if (s->note != NULL)
    gtk_box_pack_start (GTK_BOX (box), label_new (s->note, "dim-label", TRUE), FALSE, FALSE, 0);
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_style_context_add_class (gtk_widget_get_style_context (grid), "sw-evidence");
  for (guint i = 0; i < s->items->len; i++)
    {
      const Item *it = g_ptr_array_index (s->items, i);
      GtkWidget *k = label_new (it->label, "sw-evidence-key", FALSE);
      gtk_widget_set_valign (k, GTK_ALIGN_START);
      gtk_size_group_add_widget (self->keys, k);
      GtkWidget *v = label_new (it->value, "sw-evidence-value", TRUE);
      gtk_label_set_selectable (GTK_LABEL (v), TRUE);
      gtk_widget_set_can_focus (v, FALSE);
      gtk_widget_set_hexpand (v, TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (v), 60);
      gtk_label_set_mnemonic_widget (GTK_LABEL (k), v); /* ATK label-for relation */
      gtk_grid_attach (GTK_GRID (grid), k, 0, (int)i, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), v, 1, (int)i, 1, 1);
    }
  gtk_box_pack_start (GTK_BOX (box), grid, FALSE, FALSE, 0);
  gtk_widget_show_all (box);
  return box;
}

void
sw_gui_details_set_record (SwGuiDetails *self, const SwStoreRecord *record)
{
  g_return_if_fail (SW_IS_GUI_DETAILS (self));
  g_clear_pointer (&self->record, sw_store_record_free);
  GList *children = gtk_container_get_children (GTK_CONTAINER (self->evidence));
  for (GList *l = children; l != NULL; l = l->next)
    gtk_widget_destroy (l->data);
  g_list_free (children);
  gtk_widget_hide (self->copied);
  if (record == NULL)
    {
      gtk_widget_set_sensitive (self->copy_button, FALSE);
      return;
    }
  self->record = sw_store_record_copy (record);
  gtk_widget_set_sensitive (self->copy_button, TRUE);

  SwVerdict v = record->verdict;
  gtk_image_set_from_icon_name (GTK_IMAGE (self->chip), sw_gui_verdict_icon_name (v), GTK_ICON_SIZE_DIALOG);
  gtk_image_set_pixel_size (GTK_IMAGE (self->chip), 48);
  gtk_widget_set_tooltip_text (self->chip, sw_gui_verdict_tooltip (v));
  AtkObject *chip_a11y = gtk_widget_get_accessible (self->chip);
  atk_object_set_name (chip_a11y, sw_gui_verdict_word (v));
  atk_object_set_description (chip_a11y, sw_gui_verdict_tooltip (v));

  GtkStyleContext *wc = gtk_widget_get_style_context (self->word);
  for (int i = 0; i < SW_VERDICT_COUNT; i++)
    gtk_style_context_remove_class (wc, sw_gui_verdict_css_class ((SwVerdict)i));
  gtk_style_context_add_class (wc, sw_gui_verdict_css_class (v));
  gtk_label_set_text (GTK_LABEL (self->word), sw_gui_verdict_word (v));
  gtk_label_set_text (GTK_LABEL (self->meaning), sw_gui_verdict_tooltip (v));
  gtk_label_set_text (GTK_LABEL (self->subject),
                      record->subject && *record->subject ? record->subject : _("(no subject)"));
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (record->verified_at);
  g_autofree char *when_text = when ? g_date_time_format (when, _("%Y-%m-%d %H:%M")) : g_strdup ("");
  /* TRANSLATORS: under the subject in the details: sender, account, time checked */
  g_autofree char *sender = g_strdup_printf (_("From %s · account %s · checked %s"),
                                             record->from_header ? record->from_header : "?",
                                             record->account ? record->account : "?", when_text);
  gtk_label_set_text (GTK_LABEL (self->sender), sender);
  gtk_label_set_text (GTK_LABEL (self->explanation),
                      record->explanation ? record->explanation : _("No explanation was stored."));

  g_autoptr (GPtrArray) sections = evidence_sections (record);
  for (guint i = 0; i < sections->len; i++)
    gtk_box_pack_start (GTK_BOX (self->evidence), section_widget (self, g_ptr_array_index (sections, i)), FALSE,
                        FALSE, 0);
}

const SwStoreRecord *
sw_gui_details_get_record (SwGuiDetails *self)
{
  g_return_val_if_fail (SW_IS_GUI_DETAILS (self), NULL);
  return self->record;
}

void
sw_gui_details_copy_report (SwGuiDetails *self)
{
  g_return_if_fail (SW_IS_GUI_DETAILS (self));
  if (self->record == NULL)
    return;
  g_autofree char *text = sw_gui_details_report_text (self->record);
  GtkWidget *w = GTK_WIDGET (self);
  GdkDisplay *display = gtk_widget_has_screen (w) ? gtk_widget_get_display (w) : gdk_display_get_default ();
  GtkClipboard *cb = gtk_clipboard_get_for_display (display, GDK_SELECTION_CLIPBOARD);
  gtk_clipboard_set_text (cb, text, -1);
  gtk_clipboard_store (cb);
  gtk_widget_show (self->copied);
  g_clear_handle_id (&self->copied_timeout, g_source_remove);
  self->copied_timeout = g_timeout_add_seconds (4, copied_hide, self);
}
