/* libFuzzer target for core/authres. Parses the input as an Authentication-Results value,
 * then writes what it read with the builder and parses that again: the second parse must
 * give back exactly what was written (the writer's escaping is the parser's inverse),
 * and the written field must be one well-formed folded field. */
#define G_LOG_DOMAIN "sw-fuzz-authres"
#include "sw-authres.h"

#include <stdint.h>
#include <string.h>

#define OUR_ID "spoofwatch-0123456789abcdef"

static gboolean
is_keyword (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && *s != '-' && *s != '_')
      return FALSE;
  return TRUE;
}

/* Text the writer keeps unchanged: valid UTF-8 without any control character. */
static gboolean
is_clean (const char *s)
{
  if (!g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (; *s; s++)
    if ((guchar) *s < 0x20 || *s == 0x7f)
      return FALSE;
  return TRUE;
}

static void
check_field_shape (const char *field)
{
  g_assert (g_str_has_prefix (field, "Authentication-Results: "));
  g_assert (g_str_has_suffix (field, "\r\n"));
  /* CR and LF only as CRLF, each followed by WSP except the last one. */
  for (const char *p = field; *p; p++)
    {
      if (*p == '\r')
        {
          g_assert (p[1] == '\n');
          g_assert (p[2] == '\0' || p[2] == ' ' || p[2] == '\t');
        }
      else if (*p == '\n')
        g_assert (p > field && p[-1] == '\r');
    }
}

static void
round_trip (const SwAuthres *ar)
{
  if (!is_clean (ar->authserv_id))
    return;
  g_autoptr (SwAuthresBuilder) b = sw_authres_builder_new (ar->authserv_id);
  g_autoptr (GPtrArray) written = g_ptr_array_new (); /* SwAuthresMethod* borrowed */
  for (guint i = 0; i < ar->methods->len; i++)
    {
      const SwAuthresMethod *m = g_ptr_array_index (ar->methods, i);
      if (!m->result_known || !is_keyword (m->method))
        continue;
      if (m->reason != NULL && !is_clean (m->reason))
        continue;
      gboolean clean = TRUE;
      for (guint j = 0; j < m->properties->len; j++)
        {
          const SwAuthresProperty *p = g_ptr_array_index (m->properties, j);
          clean &= *p->ptype != '\0' && is_clean (p->value);
        }
      if (!clean)
        continue;
      sw_authres_builder_add_method (b, m->method, m->result, m->reason, m->comment);
      for (guint j = 0; j < m->properties->len; j++)
        {
          const SwAuthresProperty *p = g_ptr_array_index (m->properties, j);
          sw_authres_builder_add_property (b, p->ptype, p->property, p->value);
        }
      g_ptr_array_add (written, (gpointer) m);
    }
  g_autofree char *field = sw_authres_builder_end (g_steal_pointer (&b), "\r\n");
  check_field_shape (field);

  const char *value = field + strlen ("Authentication-Results:");
  if (strlen (value) > SW_AUTHRES_MAX_FIELD)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (SwAuthres) back = sw_authres_parse (value, &error);
  g_assert (back != NULL);
  g_assert (g_strcmp0 (back->authserv_id, ar->authserv_id) == 0);
  g_assert (back->n_skipped == 0);
  g_assert (!back->truncated);
  g_assert (back->methods->len == written->len);
  g_assert (back->none == (written->len == 0));
  for (guint i = 0; i < written->len; i++)
    {
      const SwAuthresMethod *w = g_ptr_array_index (written, i);
      const SwAuthresMethod *r = g_ptr_array_index (back->methods, i);
      g_assert (g_strcmp0 (w->method, r->method) == 0);
      g_assert (w->result == r->result);
      g_assert (g_strcmp0 (w->reason, r->reason) == 0);
      g_assert ((w->comment != NULL && *w->comment != '\0') <= (r->comment != NULL));
      g_assert (w->properties->len == r->properties->len);
      for (guint j = 0; j < w->properties->len; j++)
        {
          const SwAuthresProperty *wp = g_ptr_array_index (w->properties, j);
          const SwAuthresProperty *rp = g_ptr_array_index (r->properties, j);
          g_assert (g_strcmp0 (wp->ptype, rp->ptype) == 0);
          g_assert (g_strcmp0 (wp->property, rp->property) == 0);
          g_assert (g_strcmp0 (wp->value, rp->value) == 0);
        }
    }
  g_assert (sw_authres_field_is_ours ("Authentication-Results", value, ar->authserv_id) || *ar->authserv_id == '\0');
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *value = g_strndup ((const char *) data, size);

  g_autofree char *id = sw_authres_dup_authserv_id (value);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwAuthres) ar = sw_authres_parse (value, &error);
  /* The cheap id reader and the parser agree. */
  g_assert ((ar == NULL) == (id == NULL));
  g_assert (ar == NULL || g_strcmp0 (ar->authserv_id, id) == 0);
  g_assert (ar != NULL || error != NULL);
  (void) sw_authres_field_is_ours ("Authentication-Results", value, OUR_ID);

  if (ar != NULL)
    {
      g_assert (ar->methods->len <= SW_AUTHRES_MAX_METHODS);
      for (guint i = 0; i < ar->methods->len; i++)
        {
          const SwAuthresMethod *m = g_ptr_array_index (ar->methods, i);
          g_assert (m->properties->len <= SW_AUTHRES_MAX_PROPERTIES);
          g_assert (*m->method != '\0' && *m->result_word != '\0');
          (void) sw_authres_method_get (m, "header", "d");
        }
      round_trip (ar);
    }
  return 0;
}
