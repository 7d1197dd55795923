#define G_LOG_DOMAIN "sw-dns"
/* sw-dns-zone.c: the zone backend. Parses BIND-style master file text once
 * (docs/zone-files.md) into an immutable table of names, then answers queries from it
 * without locks. */
#include "sw-dns-private.h"
#include "sw-limits.h"

#include <arpa/inet.h>
#include <string.h>

#define DEFAULT_TTL      3600u
#define MAX_CNAME_CHAIN  8u
#define MAX_STRING_CHUNK 255u

typedef enum {
  MARK_NONE = 0,
  MARK_SERVFAIL,
  MARK_TIMEOUT,
} FailMark;

typedef struct {
  guint16 type;
  guint32 ttl;
  GBytes *rdata;
} ZoneRecord;

typedef struct {
  guint16  type; /* 0: every type */
  FailMark mark;
} ZoneMark;

/* One name of the zone: its records and failure marks. A node without either is an
 * empty non-terminal (it exists, so it answers NODATA and blocks wildcards). */
typedef struct {
  GArray *records; /* ZoneRecord */
  GArray *marks;   /* ZoneMark */
} ZoneNode;

typedef struct {
  GHashTable *nodes; /* normalised name -> ZoneNode* */
} Zone;

static void
zone_record_clear (gpointer data)
{
  ZoneRecord *r = data;
  g_clear_pointer (&r->rdata, g_bytes_unref);
}

static void
zone_node_free (gpointer data)
{
  ZoneNode *node = data;
  g_array_unref (node->records);
  g_array_unref (node->marks);
  g_free (node);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ZoneNode, zone_node_free)

static ZoneNode *
zone_node_new (void)
{
  ZoneNode *node = g_new0 (ZoneNode, 1);
  node->records = g_array_new (FALSE, TRUE, sizeof (ZoneRecord));
  g_array_set_clear_func (node->records, zone_record_clear);
  node->marks = g_array_new (FALSE, TRUE, sizeof (ZoneMark));
  return node;
}

/* ---------------------------------------------------------------------------------- */
/* Lexer: one logical record (a line, or several joined by parentheses) at a time. */

typedef struct {
  GByteArray *bytes;      /* decoded (escapes resolved), NUL-terminated after the data */
  GString    *raw;        /* the text as written, escapes unresolved (for names) */
  gboolean    quoted;
  gboolean    has_escape;
} Token;

static void
token_clear (gpointer data)
{
  Token *t = data;
  g_clear_pointer (&t->bytes, g_byte_array_unref);
  if (t->raw != NULL)
    g_string_free (g_steal_pointer (&t->raw), TRUE);
}

static const char *
token_text (const Token *t)
{
  return (const char *) t->bytes->data;
}

typedef struct {
  const char *p;
  const char *end;
  guint       line;
} Lexer;

G_GNUC_PRINTF (3, 4) static void
syntax_error (GError **error, guint line, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_ZONE_SYNTAX, "line %u: %s", line, msg);
}

/* Reads a backslash escape at lx->p (just after the backslash) into @out. */
static gboolean
lex_escape (Lexer *lx, GByteArray *out, GError **error)
{
  if (lx->p >= lx->end || *lx->p == '\n')
    {
      syntax_error (error, lx->line, "backslash at end of line");
      return FALSE;
    }
  if (g_ascii_isdigit (*lx->p))
    {
      if (lx->end - lx->p < 3 || !g_ascii_isdigit (lx->p[1]) || !g_ascii_isdigit (lx->p[2]))
        {
          syntax_error (error, lx->line, "bad escape: \\DDD needs three digits");
          return FALSE;
        }
      guint v = (guint) (lx->p[0] - '0') * 100 + (guint) (lx->p[1] - '0') * 10 + (guint) (lx->p[2] - '0');
      if (v > 255)
        {
          syntax_error (error, lx->line, "bad escape: \\%.3s is over 255", lx->p);
          return FALSE;
        }
      guint8 b = (guint8) v;
      g_byte_array_append (out, &b, 1);
      lx->p += 3;
      return TRUE;
    }
  g_byte_array_append (out, (const guint8 *) lx->p, 1);
  lx->p++;
  return TRUE;
}

/* Fills @tokens with the next record. Returns FALSE on a syntax error; at the end of the
 * text returns TRUE with no tokens. *@indented: the record's first line starts with
 * blank space (owner omitted). *@line_out: line of the first token. */
static gboolean
lex_record (Lexer *lx, GArray *tokens, gboolean *indented, guint *line_out, GError **error)
{
  guint paren = 0, paren_line = 0;
  gboolean line_start = TRUE;
  g_array_set_size (tokens, 0);
  *indented = FALSE;
  *line_out = lx->line;

  while (lx->p < lx->end)
    {
      char c = *lx->p;
      if (c == '\n')
        {
          lx->p++;
          lx->line++;
          if (paren == 0 && tokens->len > 0)
            return TRUE;
          if (paren == 0)
            line_start = TRUE;
          continue;
        }
      if (c == ' ' || c == '\t' || c == '\r')
        {
          if (line_start && paren == 0 && tokens->len == 0 && c != '\r')
            *indented = TRUE;
          line_start = FALSE;
          lx->p++;
          continue;
        }
      if (line_start && paren == 0 && tokens->len == 0)
        *indented = FALSE;
      line_start = FALSE;
      if (c == ';')
        {
          while (lx->p < lx->end && *lx->p != '\n')
            lx->p++;
          continue;
        }
      if (c == '(')
        {
          if (paren++ == 0)
            paren_line = lx->line;
          lx->p++;
          continue;
        }
      if (c == ')')
        {
          if (paren == 0)
            {
              syntax_error (error, lx->line, "')' without '('");
              return FALSE;
            }
          paren--;
          lx->p++;
          continue;
        }
      if (tokens->len == 0)
        *line_out = lx->line;
      Token t = { g_byte_array_new (), g_string_new (NULL), FALSE, FALSE };
      g_array_append_val (tokens, t);
      Token *tok = &g_array_index (tokens, Token, tokens->len - 1);
      if (c == '"')
        {
          guint start_line = lx->line;
          tok->quoted = TRUE;
          lx->p++;
          for (;;)
            {
              if (lx->p >= lx->end || *lx->p == '\n')
                {
                  syntax_error (error, start_line, "unterminated quoted string");
                  return FALSE;
                }
              if (*lx->p == '"')
                {
                  lx->p++;
                  break;
                }
              if (*lx->p == '\\')
                {
                  lx->p++;
                  tok->has_escape = TRUE;
                  if (!lex_escape (lx, tok->bytes, error))
                    return FALSE;
                  continue;
                }
              g_byte_array_append (tok->bytes, (const guint8 *) lx->p, 1);
              lx->p++;
            }
        }
      else
        {
          while (lx->p < lx->end)
            {
              char d = *lx->p;
              if (d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == ';' || d == '(' || d == ')'
                  || d == '"')
                break;
              if (d == '\\')
                {
                  const char *escape_start = lx->p;
                  lx->p++;
                  tok->has_escape = TRUE;
                  if (!lex_escape (lx, tok->bytes, error))
                    return FALSE;
                  g_string_append_len (tok->raw, escape_start, lx->p - escape_start);
                  continue;
                }
              g_byte_array_append (tok->bytes, (const guint8 *) lx->p, 1);
              g_string_append_c (tok->raw, d);
              lx->p++;
            }
        }
      guint8 nul = 0;
      g_byte_array_append (tok->bytes, &nul, 1);
      g_byte_array_set_size (tok->bytes, tok->bytes->len - 1);
      tok->bytes->data[tok->bytes->len] = '\0'; /* within the allocation: set_size shrinks */
    }
  if (paren > 0)
    {
      syntax_error (error, paren_line, "'(' without ')'");
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------------- */
/* Parser */

typedef struct {
  Zone    *zone;
  char    *origin;        /* "" for the root */
  char    *last_owner;
  guint32  default_ttl;
  gboolean have_default_ttl;
} Parser;

static const struct {
  const char *name;
  guint16     type;
} type_names[] = {
  { "A", SW_DNS_TYPE_A },       { "NS", SW_DNS_TYPE_NS },   { "CNAME", SW_DNS_TYPE_CNAME },
  { "SOA", SW_DNS_TYPE_SOA },   { "PTR", SW_DNS_TYPE_PTR }, { "MX", SW_DNS_TYPE_MX },
  { "TXT", SW_DNS_TYPE_TXT },   { "AAAA", SW_DNS_TYPE_AAAA }, { "SPF", SW_DNS_TYPE_SPF },
};

static guint16
type_from_name (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (type_names); i++)
    if (g_ascii_strcasecmp (name, type_names[i].name) == 0)
      return type_names[i].type;
  return 0;
}

static FailMark
mark_from_name (const char *name)
{
  if (g_ascii_strcasecmp (name, "SERVFAIL") == 0)
    return MARK_SERVFAIL;
  if (g_ascii_strcasecmp (name, "TIMEOUT") == 0)
    return MARK_TIMEOUT;
  return MARK_NONE;
}

/* TRUE if presentation-format @text ends with a '.' that is not escaped ("a." yes,
 * "a\\." and "a\\046" no). */
static gboolean
ends_with_unescaped_dot (const char *text)
{
  gboolean dot = FALSE;
  for (const char *p = text; *p != '\0';)
    {
      dot = FALSE;
      if (*p == '\\')
        {
          p++;
          if (g_ascii_isdigit (*p))
            for (guint i = 0; i < 3 && *p != '\0'; i++)
              p++;
          else if (*p != '\0')
            p++;
          continue;
        }
      dot = *p == '.';
      p++;
    }
  return dot;
}

/* Resolves a name token against the origin; returns the normalised name. Escapes
 * ("\\DDD", "\\X") are kept for sw_dns_name_normalize(), which resolves them. */
static char *
parse_name (Parser *ps, const Token *tok, guint line, GError **error)
{
  if (tok->quoted)
    {
      syntax_error (error, line, "quotes are not supported in names");
      return NULL;
    }
  const char *text = tok->raw->str;
  g_autofree char *absolute = NULL;
  if (strcmp (text, "@") == 0)
    absolute = g_strdup (ps->origin);
  else if (ends_with_unescaped_dot (text))
    absolute = g_strdup (text);
  else if (ps->origin[0] == '\0')
    absolute = g_strdup (text); /* no $ORIGIN: relative names are taken as absolute */
  else
    absolute = g_strconcat (text, ".", ps->origin, NULL);
  g_autoptr (GError) local = NULL;
  char *name = sw_dns_name_normalize (absolute, &local);
  if (name == NULL)
    syntax_error (error, line, "%s", local->message);
  return name;
}

static ZoneNode *
zone_ensure_node (Zone *zone, const char *name)
{
  ZoneNode *node = g_hash_table_lookup (zone->nodes, name);
  if (node != NULL)
    return node;
  node = zone_node_new ();
  g_hash_table_insert (zone->nodes, g_strdup (name), node);
  /* Ancestors exist as empty non-terminals unless they have data of their own. */
  for (const char *p = strchr (name, '.'); p != NULL; p = strchr (p + 1, '.'))
    {
      if (g_hash_table_contains (zone->nodes, p + 1))
        break;
      g_hash_table_insert (zone->nodes, g_strdup (p + 1), zone_node_new ());
    }
  return node;
}

static gboolean
append_name_rdata (Parser *ps, GByteArray *rd, const Token *tok, guint line, GError **error)
{
  /* "." (the root) is allowed as a target: the null MX of RFC 7505 is "MX 0 .". */
  g_autofree char *name = NULL;
  if (!tok->quoted && strcmp (tok->raw->str, ".") == 0)
    name = g_strdup ("");
  else
    name = parse_name (ps, tok, line, error);
  if (name == NULL)
    return FALSE;
  guint8 wire[SW_DNS_MAX_WIRE_NAME];
  gsize n = sw_dns_name_to_wire (name, wire);
  g_assert (n > 0);
  g_byte_array_append (rd, wire, (guint) n);
  return TRUE;
}

static gboolean
parse_uint (const Token *tok, guint64 max, guint64 *out)
{
  return !tok->quoted && g_ascii_string_to_unsigned (token_text (tok), 10, 0, max, out, NULL);
}

static void
append16 (GByteArray *rd, guint v)
{
  guint8 b[2] = { (guint8) (v >> 8), (guint8) v };
  g_byte_array_append (rd, b, 2);
}

static void
append32 (GByteArray *rd, guint32 v)
{
  guint8 b[4] = { (guint8) (v >> 24), (guint8) (v >> 16), (guint8) (v >> 8), (guint8) v };
  g_byte_array_append (rd, b, 4);
}

/* Builds the wire rdata of @type from tokens [@first, tokens->len). */
static GBytes *
parse_rdata (Parser *ps, guint16 type, GArray *tokens, guint first, guint line, GError **error)
{
  guint n = tokens->len - first;
  const Token *tok = n > 0 ? &g_array_index (tokens, Token, first) : NULL;
  g_autoptr (GByteArray) rd = g_byte_array_new ();
  guint want = 0;
  const char *type_name = "";
  for (guint i = 0; i < G_N_ELEMENTS (type_names); i++)
    if (type_names[i].type == type)
      type_name = type_names[i].name;

  switch (type)
    {
    case SW_DNS_TYPE_A:
    case SW_DNS_TYPE_AAAA:
      {
        want = 1;
        if (n != want)
          break;
        guint8 addr[16];
        int family = type == SW_DNS_TYPE_A ? AF_INET : AF_INET6;
        if (tok->quoted || inet_pton (family, token_text (tok), addr) != 1)
          {
            syntax_error (error, line, "bad %s address \"%s\"", type_name, token_text (tok));
            return NULL;
          }
        g_byte_array_append (rd, addr, type == SW_DNS_TYPE_A ? 4 : 16);
        break;
      }
    case SW_DNS_TYPE_MX:
      {
        want = 2;
        if (n != want)
          break;
        guint64 pref;
        if (!parse_uint (tok, G_MAXUINT16, &pref))
          {
            syntax_error (error, line, "bad MX preference \"%s\"", token_text (tok));
            return NULL;
          }
        append16 (rd, (guint) pref);
        if (!append_name_rdata (ps, rd, tok + 1, line, error))
          return NULL;
        break;
      }
    case SW_DNS_TYPE_PTR:
    case SW_DNS_TYPE_NS:
    case SW_DNS_TYPE_CNAME:
      want = 1;
      if (n == want && !append_name_rdata (ps, rd, tok, line, error))
        return NULL;
      break;
    case SW_DNS_TYPE_SOA:
      want = 7;
      if (n != want)
        break;
      if (!append_name_rdata (ps, rd, tok, line, error) || !append_name_rdata (ps, rd, tok + 1, line, error))
        return NULL;
      for (guint i = 2; i < 7; i++)
        {
          guint32 v;
          if (tok[i].quoted || !sw_dns_parse_ttl (token_text (&tok[i]), &v))
            {
              syntax_error (error, line, "bad SOA number \"%s\"", token_text (&tok[i]));
              return NULL;
            }
          append32 (rd, v);
        }
      break;
    case SW_DNS_TYPE_TXT:
    case SW_DNS_TYPE_SPF:
      if (n == 0)
        {
          syntax_error (error, line, "%s needs at least one character-string", type_name);
          return NULL;
        }
      want = n;
      for (guint i = 0; i < n; i++)
        {
          const GByteArray *s = tok[i].bytes;
          gsize pos = 0;
          /* A string longer than 255 octets is split into several character-strings. */
          do
            {
              gsize chunk = MIN (s->len - pos, MAX_STRING_CHUNK);
              guint8 len8 = (guint8) chunk;
              g_byte_array_append (rd, &len8, 1);
              g_byte_array_append (rd, s->data + pos, (guint) chunk);
              pos += chunk;
            }
          while (pos < s->len);
        }
      if (rd->len > G_MAXUINT16)
        {
          syntax_error (error, line, "%s record longer than 65535 octets", type_name);
          return NULL;
        }
      break;
    default:
      g_assert_not_reached ();
    }
  if (n != want)
    {
      syntax_error (error, line, "%s needs %u field%s, got %u", type_name, want, want == 1 ? "" : "s", n);
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&rd));
}

static gboolean
add_record (Parser *ps, const char *owner, guint16 type, guint32 ttl, GBytes *rdata, guint line, GError **error)
{
  ZoneNode *node = zone_ensure_node (ps->zone, owner);
  for (guint i = 0; i < node->records->len; i++)
    {
      ZoneRecord *r = &g_array_index (node->records, ZoneRecord, i);
      if ((r->type == SW_DNS_TYPE_CNAME) != (type == SW_DNS_TYPE_CNAME))
        {
          syntax_error (error, line, "CNAME and other data at %s", owner);
          return FALSE;
        }
      if (r->type == type && g_bytes_equal (r->rdata, rdata))
        return TRUE; /* duplicate record: an RRset is a set */
      if (type == SW_DNS_TYPE_CNAME)
        {
          syntax_error (error, line, "more than one CNAME at %s", owner);
          return FALSE;
        }
    }
  ZoneRecord rec = { type, ttl, g_bytes_ref (rdata) };
  g_array_append_val (node->records, rec);
  return TRUE;
}

static gboolean
parse_directive (Parser *ps, GArray *tokens, guint line, GError **error)
{
  const Token *t0 = &g_array_index (tokens, Token, 0);
  const char *name = token_text (t0);
  if (g_ascii_strcasecmp (name, "$ORIGIN") == 0)
    {
      if (tokens->len != 2)
        {
          syntax_error (error, line, "$ORIGIN needs one name");
          return FALSE;
        }
      const Token *t1 = &g_array_index (tokens, Token, 1);
      if (strcmp (t1->raw->str, ".") == 0)
        {
          g_free (ps->origin);
          ps->origin = g_strdup ("");
          return TRUE;
        }
      char *origin = parse_name (ps, t1, line, error);
      if (origin == NULL)
        return FALSE;
      g_free (ps->origin);
      ps->origin = origin;
      return TRUE;
    }
  if (g_ascii_strcasecmp (name, "$TTL") == 0)
    {
      guint32 ttl;
      if (tokens->len != 2 || !sw_dns_parse_ttl (token_text (&g_array_index (tokens, Token, 1)), &ttl))
        {
          syntax_error (error, line, "$TTL needs one TTL value");
          return FALSE;
        }
      ps->default_ttl = ttl;
      return TRUE;
    }
  g_autofree char *safe = g_strescape (name, NULL);
  syntax_error (error, line, "unsupported directive %s", safe);
  return FALSE;
}

static gboolean
parse_record (Parser *ps, GArray *tokens, gboolean indented, guint line, GError **error)
{
  guint i = 0;
  g_autofree char *owner = NULL;
  const Token *t0 = &g_array_index (tokens, Token, 0);

  if (!indented && !t0->quoted && t0->raw->str[0] == '$')
    return parse_directive (ps, tokens, line, error);

  if (indented)
    {
      if (ps->last_owner == NULL)
        {
          syntax_error (error, line, "record without owner name and no previous owner");
          return FALSE;
        }
      owner = g_strdup (ps->last_owner);
    }
  else
    {
      owner = parse_name (ps, t0, line, error);
      if (owner == NULL)
        return FALSE;
      i = 1;
      g_free (ps->last_owner);
      ps->last_owner = g_strdup (owner);
    }

  guint32 ttl = ps->default_ttl;
  gboolean have_ttl = FALSE, have_class = FALSE;
  for (; i < tokens->len; i++)
    {
      const Token *t = &g_array_index (tokens, Token, i);
      const char *text = token_text (t);
      if (t->quoted)
        break;
      if (!have_class && g_ascii_strcasecmp (text, "IN") == 0)
        have_class = TRUE;
      else if (!have_class && (g_ascii_strcasecmp (text, "CH") == 0 || g_ascii_strcasecmp (text, "HS") == 0
                               || g_ascii_strcasecmp (text, "CS") == 0))
        {
          syntax_error (error, line, "unsupported class %s (only IN)", text);
          return FALSE;
        }
      else if (!have_ttl && g_ascii_isdigit (text[0]))
        {
          if (!sw_dns_parse_ttl (text, &ttl))
            {
              g_autofree char *safe = g_strescape (text, NULL);
              syntax_error (error, line, "bad TTL %s", safe);
              return FALSE;
            }
          have_ttl = TRUE;
        }
      else
        break;
    }
  if (i >= tokens->len)
    {
      syntax_error (error, line, "missing record type");
      return FALSE;
    }
  const Token *type_tok = &g_array_index (tokens, Token, i);
  const char *type_text = token_text (type_tok);
  FailMark mark = type_tok->quoted ? MARK_NONE : mark_from_name (type_text);
  if (mark != MARK_NONE)
    {
      ZoneMark m = { 0, mark };
      if (i + 1 < tokens->len)
        {
          const Token *t = &g_array_index (tokens, Token, i + 1);
          m.type = t->quoted ? 0 : type_from_name (token_text (t));
          if (m.type == 0 || i + 2 < tokens->len)
            {
              syntax_error (error, line, "%s takes at most one record type", type_text);
              return FALSE;
            }
        }
      ZoneNode *node = zone_ensure_node (ps->zone, owner);
      g_array_append_val (node->marks, m);
      return TRUE;
    }
  guint16 type = type_tok->quoted ? 0 : type_from_name (type_text);
  if (type == 0)
    {
      g_autofree char *safe = g_strescape (type_text, NULL);
      if (strlen (safe) > 40)
        safe[40] = '\0';
      syntax_error (error, line, "unknown type %s", safe);
      return FALSE;
    }
  g_autoptr (GBytes) rdata = parse_rdata (ps, type, tokens, i + 1, line, error);
  if (rdata == NULL)
    return FALSE;
  return add_record (ps, owner, type, ttl, rdata, line, error);
}

static void zone_finalize (SwResolver *resolver);
static SwDnsAnswer *zone_query (SwResolver *resolver, const char *qname, guint16 qtype, GError **error);
static SwDnsAnswer *zone_query_now (SwResolver *resolver, const char *qname, guint16 qtype);

static const SwResolverClass zone_class = {
  .name = "zone",
  .query = zone_query,
  .query_now = zone_query_now,
  .finalize = zone_finalize,
};

static void
zone_free (Zone *zone)
{
  g_hash_table_unref (zone->nodes);
  g_free (zone);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Zone, zone_free)

SwResolver *
sw_dns_zone_new (const char *text, gsize len, GError **error)
{
  if (len > SW_MAX_ZONE_FILE_SIZE)
    {
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_ZONE_SYNTAX,
                   "zone data of %" G_GSIZE_FORMAT " bytes is over the limit of %u bytes", len,
                   (guint) SW_MAX_ZONE_FILE_SIZE);
      return NULL;
    }
  g_autoptr (Zone) zone = g_new0 (Zone, 1);
  zone->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, zone_node_free);
  Parser ps = { zone, g_strdup (""), NULL, DEFAULT_TTL, FALSE };
  Lexer lx = { text, text + len, 1 };
  g_autoptr (GArray) tokens = g_array_new (FALSE, TRUE, sizeof (Token));
  g_array_set_clear_func (tokens, token_clear);
  gboolean ok = TRUE;
  for (;;)
    {
      gboolean indented;
      guint line;
      if (!lex_record (&lx, tokens, &indented, &line, error))
        {
          ok = FALSE;
          break;
        }
      if (tokens->len == 0)
        break;
      if (!parse_record (&ps, tokens, indented, line, error))
        {
          ok = FALSE;
          break;
        }
    }
  g_free (ps.origin);
  g_free (ps.last_owner);
  if (!ok)
    return NULL;
  SwResolver *resolver = sw_resolver_alloc (&zone_class);
  resolver->backend = g_steal_pointer (&zone);
  return resolver;
}

static void
zone_finalize (SwResolver *resolver)
{
  g_clear_pointer ((Zone **) &resolver->backend, zone_free);
}

/* The node answering for @name: its own, or the wildcard at its closest encloser
 * (RFC 4592 section 3.3.1: only when @name does not exist; an existing ancestor, empty
 * non-terminals included, without a "*" child means no match). */
static const ZoneNode *
zone_find (const Zone *zone, const char *name)
{
  const ZoneNode *node = g_hash_table_lookup (zone->nodes, name);
  if (node != NULL)
    return node;
  for (const char *p = strchr (name, '.'); p != NULL; p = strchr (p + 1, '.'))
    {
      const char *ancestor = p + 1;
      if (!g_hash_table_contains (zone->nodes, ancestor))
        continue;
      g_autofree char *wildcard = g_strconcat ("*.", ancestor, NULL);
      return g_hash_table_lookup (zone->nodes, wildcard);
    }
  return NULL;
}

static FailMark
node_mark (const ZoneNode *node, guint16 qtype)
{
  for (guint i = 0; i < node->marks->len; i++)
    {
      const ZoneMark *m = &g_array_index (node->marks, ZoneMark, i);
      if (m->type == 0 || m->type == qtype)
        return m->mark;
    }
  return MARK_NONE;
}

static SwDnsAnswer *
zone_query (SwResolver *resolver, const char *qname, guint16 qtype, GError **error)
{
  const Zone *zone = resolver->backend;
  g_autoptr (SwDnsAnswer) answer = sw_dns_answer_new (qname, qtype, SW_DNS_STATUS_NXDOMAIN);
  g_autofree char *current = g_strdup (qname);
  for (guint chain = 0;; chain++)
    {
      const ZoneNode *node = zone_find (zone, current);
      if (node == NULL)
        {
          answer->status = SW_DNS_STATUS_NXDOMAIN;
          break;
        }
      FailMark mark = node_mark (node, qtype);
      if (mark != MARK_NONE)
        {
          answer->status = mark == MARK_TIMEOUT ? SW_DNS_STATUS_TIMEOUT : SW_DNS_STATUS_SERVFAIL;
          break;
        }
      const ZoneRecord *cname = NULL;
      for (guint i = 0; i < node->records->len; i++)
        {
          const ZoneRecord *r = &g_array_index (node->records, ZoneRecord, i);
          if (r->type == qtype)
            {
              if (answer->rdata->len >= SW_MAX_DNS_ANSWER_RRS)
                continue;
              answer->ttl = answer->rdata->len == 0 ? r->ttl : MIN (answer->ttl, r->ttl);
              g_ptr_array_add (answer->rdata, g_bytes_ref (r->rdata));
            }
          else if (r->type == SW_DNS_TYPE_CNAME)
            cname = r;
        }
      if (answer->rdata->len > 0)
        {
          answer->status = SW_DNS_STATUS_OK;
          break;
        }
      if (cname == NULL)
        {
          answer->status = SW_DNS_STATUS_NODATA;
          break;
        }
      if (chain + 1 > MAX_CNAME_CHAIN)
        {
          g_debug ("CNAME chain from %s longer than %u or a loop", qname, MAX_CNAME_CHAIN);
          answer->status = SW_DNS_STATUS_SERVFAIL;
          break;
        }
      g_free (current);
      current = sw_dns_name_from_wire (g_bytes_get_data (cname->rdata, NULL), g_bytes_get_size (cname->rdata), NULL);
      g_assert (current != NULL);
    }
  if (answer->status != SW_DNS_STATUS_OK)
    answer->ttl = 0;
  return g_steal_pointer (&answer);
}

SwResolver *
sw_resolver_new_zone_text (const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return sw_dns_zone_new (text, strlen (text), error);
}

SwResolver *
sw_resolver_new_zone_file (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  g_autoptr (GMappedFile) file = NULL;
  g_autoptr (GError) local = NULL;
  file = g_mapped_file_new (path, FALSE, &local);
  if (file == NULL)
    {
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_IO, "cannot read zone file: %s", local->message);
      return NULL;
    }
  gsize len = g_mapped_file_get_length (file);
  const char *text = g_mapped_file_get_contents (file);
  if (len > 0 && memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_ZONE_SYNTAX, "%s: NUL octet in zone file", path);
      return NULL;
    }
  SwResolver *resolver = sw_dns_zone_new (len > 0 ? text : "", len, &local);
  if (resolver == NULL)
    {
      g_set_error (error, local->domain, local->code, "%s: %s", path, local->message);
      return NULL;
    }
  return resolver;
}

/* Zone data answers at once: the same as zone_query (NULL only if it fails). */
static SwDnsAnswer *
zone_query_now (SwResolver *resolver, const char *qname, guint16 qtype)
{
  return zone_query (resolver, qname, qtype, NULL);
}
