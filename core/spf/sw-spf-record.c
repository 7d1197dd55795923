#define G_LOG_DOMAIN "sw-spf"
/* sw-spf-record.c: the guard in front of libspf2's record compiler.
 *
 * Every SPF record and explanation text that reaches libspf2 has first passed these
 * checks: the RFC 7208 section 4.6.1/5/6 term grammar and the section 7.1 macro grammar,
 * strictly, plus caps on the length and macro count of each term. libspf2 1.2.10 as
 * shipped by Debian 12 (1.2.10-7.2+b1) underflows a size_t in SPF_c_parse_macro() when a
 * term's compiled form comes within 4 bytes of its 511-byte buffer (CVE-2023-42118,
 * upstream fix d14abff); the following string literal is then copied without a bound.
 * The caps keep every term's compiled size far below that point; see docs/security.md,
 * "SPF record macros". A record that fails is never handed to libspf2: the DNS layer
 * turns it into a permerror. */
#include <string.h>
#include "sw-spf-private.h"
#include "sw-limits.h"

/* libspf2 compiles a term into 4-byte aligned blocks: 4 bytes per macro variable, 4 bytes
 * + the text per string literal, 4 bytes for a CIDR block. SPF_MAX_MECH_LEN and
 * SPF_MAX_MOD_LEN are 511; the underflow needs 508. We refuse far earlier. */
#define COMPILED_TERM_SAFE 480u

/* Upper bound with the caps: a term of L bytes with m macros (>= 4 bytes each) compiles
 * to at most 4 (CIDR) + 4m + 7(m + 1) (literal headers and padding) + 1.5 (L - 4m) ("%-"
 * expands to 3 bytes) = 1.5 L + 5 m + 11 bytes. */
G_STATIC_ASSERT (SW_SPF_MAX_TERM * 3 / 2 + 5 * SW_SPF_MAX_MACROS_PER_TERM + 11 <= COMPILED_TERM_SAFE);
G_STATIC_ASSERT (SW_SPF_MAX_EXPLANATION * 3 / 2 + 5 * SW_SPF_MAX_MACROS_PER_TERM + 11 <= COMPILED_TERM_SAFE);

typedef struct {
  gboolean    in_exp;      /* c, r, t allowed; spaces allowed */
  guint       macros;      /* macro-expands seen */
  gsize       compiled;    /* libspf2's compiled size, upper estimate */
  gsize       chunk;       /* bytes of the string literal being built */
  gboolean    ends_with_macro;
  const char *why;
} MacroScan;

static gsize
align4 (gsize n)
{
  return (n + 3u) & ~(gsize) 3u;
}

static void
flush_chunk (MacroScan *m)
{
  if (m->chunk > 0)
    m->compiled += align4 (4 + m->chunk);
  m->chunk = 0;
}

static gboolean
is_delimiter (char c)
{
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

/* Parses "%{" letter *DIGIT ["r"] *delimiter "}" at @s (which points at '%'); returns
 * the length consumed or 0 if malformed. */
static gsize
scan_macro_expand (const char *s, gsize len, MacroScan *m)
{
  gsize i = 2;
  if (len < 4 || s[1] != '{')
    return 0;
  char letter = g_ascii_tolower (s[i]);
  if (strchr ("slodiphv", letter) == NULL || letter == '\0')
    {
      if (m->in_exp && letter != '\0' && strchr ("crt", letter) != NULL)
        ;
      else
        {
          m->why = (letter != '\0' && strchr ("crt", letter) != NULL)
                     ? "macro letter allowed only in explanations"
                     : "unknown macro letter";
          return 0;
        }
    }
  i++;
  gsize digits_start = i;
  guint value = 0;
  while (i < len && g_ascii_isdigit (s[i]))
    {
      if (i - digits_start >= 3)
        {
          m->why = "macro transformer too large";
          return 0;
        }
      value = value * 10 + (guint) (s[i] - '0');
      i++;
    }
  if (i > digits_start && (value == 0 || value > 128))
    {
      m->why = "macro transformer out of range";
      return 0;
    }
  if (i < len && (s[i] == 'r' || s[i] == 'R'))
    i++;
  while (i < len && is_delimiter (s[i]))
    i++;
  if (i >= len || s[i] != '}')
    {
      m->why = "malformed macro";
      return 0;
    }
  return i + 1;
}

/* Scans a macro-string (or explain-string when m->in_exp). */
static gboolean
scan_macro_string (const char *s, gsize len, MacroScan *m)
{
  gsize i = 0;
  m->ends_with_macro = FALSE;
  while (i < len)
    {
      guchar c = (guchar) s[i];
      m->ends_with_macro = FALSE;
      if (c == '%')
        {
          if (i + 1 >= len)
            {
              m->why = "malformed macro ('%' at the end)";
              return FALSE;
            }
          switch (s[i + 1])
            {
            case '%':
            case '_':
              m->chunk += 1;
              i += 2;
              continue;
            case '-':
              m->chunk += 3;
              i += 2;
              continue;
            case '{':
              {
                gsize n = scan_macro_expand (s + i, len - i, m);
                if (n == 0)
                  {
                    if (m->why == NULL)
                      m->why = "malformed macro";
                    return FALSE;
                  }
                flush_chunk (m);
                m->compiled += 4;
                m->macros++;
                if (m->macros > SW_SPF_MAX_MACROS_PER_TERM)
                  {
                    m->why = "too many macros in one term";
                    return FALSE;
                  }
                i += n;
                m->ends_with_macro = TRUE;
                continue;
              }
            default:
              m->why = "malformed macro ('%' not followed by '{', '%', '_' or '-')";
              return FALSE;
            }
        }
      if (c == ' ' && m->in_exp)
        {
          m->chunk += 1;
          i++;
          continue;
        }
      if (c < 0x21 || c > 0x7e)
        {
          m->why = c >= 0x80 ? "non-ASCII character" : "control character or space";
          return FALSE;
        }
      m->chunk += 1;
      i++;
    }
  flush_chunk (m);
  return TRUE;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static gboolean
is_toplabel (const char *s, gsize len)
{
  gboolean alpha = FALSE, dash = FALSE;
  if (len == 0 || !g_ascii_isalnum (s[0]) || !g_ascii_isalnum (s[len - 1]))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (g_ascii_isalpha (s[i]))
        alpha = TRUE;
      else if (s[i] == '-')
        dash = TRUE;
      else if (!g_ascii_isdigit (s[i]))
        return FALSE;
    }
  return alpha || dash;
}

/* domain-spec = macro-string domain-end ; domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static gboolean
check_domain_spec (const char *s, gsize len, gsize cidr_bytes, gsize slack, const char **why)
{
  MacroScan m = { 0 };
  m.compiled = cidr_bytes;
  if (len == 0)
    {
      *why = "empty domain-spec";
      return FALSE;
    }
  if (len > SW_SPF_MAX_TERM + slack)
    {
      *why = "domain-spec too long";
      return FALSE;
    }
  if (!scan_macro_string (s, len, &m))
    {
      *why = m.why;
      return FALSE;
    }
  if (m.compiled > COMPILED_TERM_SAFE)
    {
      *why = "term too large";
      return FALSE;
    }
  if (m.ends_with_macro)
    return TRUE;
  gsize end = len;
  if (s[end - 1] == '.')
    end--;
  gsize dot = end;
  while (dot > 0 && s[dot - 1] != '.')
    dot--;
  if (dot == 0 || dot == end)
    {
      *why = "domain-spec must end in a macro or a top label";
      return FALSE;
    }
  /* The top label must be literal text, not the tail of a macro-expand. */
  if (memchr (s + dot, '%', end - dot) != NULL || memchr (s + dot, '}', end - dot) != NULL
      || !is_toplabel (s + dot, end - dot))
    {
      *why = "invalid top label in domain-spec";
      return FALSE;
    }
  return TRUE;
}

/* "/" ( "0" / %x31-39 0*N DIGIT ), value <= max. */
static gboolean
parse_cidr (const char *s, gsize len, guint max)
{
  if (len == 0 || len > 3 || !g_ascii_isdigit (s[0]) || (s[0] == '0' && len > 1))
    return FALSE;
  guint v = 0;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      v = v * 10 + (guint) (s[i] - '0');
    }
  return v <= max;
}

static gboolean
all_digits (const char *s, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* Splits a trailing dual-cidr-length off @arg: sets *len_out to the length without it.
 * FALSE if a CIDR suffix is present but malformed. */
static gboolean
split_dual_cidr (const char *arg, gsize len, gsize *len_out, gboolean *has_cidr, const char **why)
{
  gsize end = len;
  *has_cidr = FALSE;
  /* ip6-cidr-length: "//" digits at the end */
  gsize p = end;
  while (p > 0 && g_ascii_isdigit (arg[p - 1]))
    p--;
  if (p < end && p >= 2 && arg[p - 1] == '/' && arg[p - 2] == '/')
    {
      if (!parse_cidr (arg + p, end - p, 128))
        {
          *why = "invalid IPv6 CIDR length";
          return FALSE;
        }
      *has_cidr = TRUE;
      end = p - 2;
      p = end;
      while (p > 0 && g_ascii_isdigit (arg[p - 1]))
        p--;
    }
  if (p < end && p >= 1 && arg[p - 1] == '/')
    {
      if (!parse_cidr (arg + p, end - p, 32))
        {
          *why = "invalid IPv4 CIDR length";
          return FALSE;
        }
      *has_cidr = TRUE;
      end = p - 1;
    }
  else if (end >= 1 && arg[end - 1] == '/')
    {
      *why = "invalid CIDR length";
      return FALSE;
    }
  *len_out = end;
  return TRUE;
}

static gboolean
check_ip4 (const char *arg, gsize len, const char **why)
{
  gsize end = len;
  const char *slash = memchr (arg, '/', len);
  if (slash != NULL)
    {
      end = (gsize) (slash - arg);
      if (!parse_cidr (slash + 1, len - end - 1, 32))
        {
          *why = "invalid IPv4 CIDR length";
          return FALSE;
        }
    }
  /* ip4-network = qnum "." qnum "." qnum "." qnum */
  g_autofree char *net = g_strndup (arg, end);
  g_autofree char **parts = sw_spf_split (net, '.');
  if (g_strv_length (parts) != 4)
    {
      *why = "invalid IPv4 network";
      return FALSE;
    }
  for (guint i = 0; i < 4; i++)
    {
      gsize n = strlen (parts[i]);
      if (!all_digits (parts[i], n) || n > 3 || (n > 1 && parts[i][0] == '0'))
        {
          *why = "invalid IPv4 network";
          return FALSE;
        }
      guint64 v = g_ascii_strtoull (parts[i], NULL, 10);
      if (v > 255)
        {
          *why = "invalid IPv4 network";
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_ip6 (const char *arg, gsize len, const char **why)
{
  gsize end = len;
  const char *slash = memchr (arg, '/', len);
  if (slash != NULL)
    {
      end = (gsize) (slash - arg);
      if (!parse_cidr (slash + 1, len - end - 1, 128))
        {
          *why = "invalid IPv6 CIDR length";
          return FALSE;
        }
    }
  g_autofree char *net = g_strndup (arg, end);
  if (end == 0 || end > 45 || strspn (net, "0123456789abcdefABCDEF:.") != end
      || !g_hostname_is_ip_address (net) || strchr (net, ':') == NULL)
    {
      *why = "invalid IPv6 network";
      return FALSE;
    }
  return TRUE;
}

typedef enum { ARG_NONE, ARG_OPTIONAL_DUAL, ARG_REQUIRED, ARG_OPTIONAL, ARG_IP4, ARG_IP6 } ArgKind;

static const struct {
  const char *name;
  ArgKind     kind;
} mechanisms[] = {
  { "all", ARG_NONE },         { "include", ARG_REQUIRED }, { "a", ARG_OPTIONAL_DUAL },
  { "mx", ARG_OPTIONAL_DUAL }, { "ptr", ARG_OPTIONAL },     { "ip4", ARG_IP4 },
  { "ip6", ARG_IP6 },          { "exists", ARG_REQUIRED },
};

static gboolean
check_mechanism (const char *term, gsize len, gsize slack, const char **why)
{
  if (len > 0 && strchr ("+-?~", term[0]) != NULL)
    {
      term++;
      len--;
    }
  gsize name_len = 0;
  while (name_len < len && g_ascii_isalnum (term[name_len]))
    name_len++;
  for (guint i = 0; i < G_N_ELEMENTS (mechanisms); i++)
    {
      if (strlen (mechanisms[i].name) != name_len
          || g_ascii_strncasecmp (term, mechanisms[i].name, name_len) != 0)
        continue;
      const char *rest = term + name_len;
      gsize rest_len = len - name_len;
      switch (mechanisms[i].kind)
        {
        case ARG_NONE:
          if (rest_len != 0)
            {
              *why = "\"all\" takes no argument";
              return FALSE;
            }
          return TRUE;
        case ARG_REQUIRED:
        case ARG_OPTIONAL:
          if (rest_len == 0 && mechanisms[i].kind == ARG_OPTIONAL)
            return TRUE;
          if (rest_len == 0 || rest[0] != ':')
            {
              *why = "mechanism needs \":\" domain-spec";
              return FALSE;
            }
          return check_domain_spec (rest + 1, rest_len - 1, 0, slack, why);
        case ARG_OPTIONAL_DUAL:
          {
            gsize spec_len = 0;
            gboolean has_cidr = FALSE;
            if (!split_dual_cidr (rest, rest_len, &spec_len, &has_cidr, why))
              return FALSE;
            if (spec_len == 0)
              return TRUE;
            if (rest[0] != ':')
              {
                *why = "mechanism needs \":\" before its domain-spec";
                return FALSE;
              }
            return check_domain_spec (rest + 1, spec_len - 1, has_cidr ? 4 : 0, slack, why);
          }
        case ARG_IP4:
        case ARG_IP6:
          if (rest_len < 2 || rest[0] != ':')
            {
              *why = "ip4/ip6 need \":\" network";
              return FALSE;
            }
          return mechanisms[i].kind == ARG_IP4 ? check_ip4 (rest + 1, rest_len - 1, why)
                                               : check_ip6 (rest + 1, rest_len - 1, why);
        }
    }
  *why = "unknown mechanism";
  return FALSE;
}

static gboolean
check_term (const char *term, gsize len, gsize slack, gboolean *seen_redirect, gboolean *seen_exp,
            const char **why)
{
  /* modifier = name "=" ... ; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
  gsize n = 0;
  if (len > 0 && g_ascii_isalpha (term[0]))
    {
      n = 1;
      while (n < len && (g_ascii_isalnum (term[n]) || term[n] == '-' || term[n] == '_' || term[n] == '.'))
        n++;
    }
  if (n > 0 && n < len && term[n] == '=')
    {
      const char *value = term + n + 1;
      gsize value_len = len - n - 1;
      if (n == 8 && g_ascii_strncasecmp (term, "redirect", 8) == 0)
        {
          if (*seen_redirect)
            {
              *why = "redirect= appears twice";
              return FALSE;
            }
          *seen_redirect = TRUE;
          return check_domain_spec (value, value_len, 0, slack, why);
        }
      if (n == 3 && g_ascii_strncasecmp (term, "exp", 3) == 0)
        {
          if (*seen_exp)
            {
              *why = "exp= appears twice";
              return FALSE;
            }
          *seen_exp = TRUE;
          return check_domain_spec (value, value_len, 0, slack, why);
        }
      MacroScan m = { 0 };
      if (value_len > SW_SPF_MAX_TERM)
        {
          *why = "modifier value too long";
          return FALSE;
        }
      if (!scan_macro_string (value, value_len, &m))
        {
          *why = m.why;
          return FALSE;
        }
      if (m.compiled + align4 (4 + n) > COMPILED_TERM_SAFE)
        {
          *why = "term too large";
          return FALSE;
        }
      return TRUE;
    }
  if (len > SW_SPF_MAX_TERM + 16 + slack)
    {
      *why = "term too long";
      return FALSE;
    }
  return check_mechanism (term, len, slack, why);
}

/* @slack: extra bytes allowed per term for the marks of sw_spf_record_simplify() (whose
 * input already passed the record length cap); the compiled-size bound of every term is
 * the same. */
static gboolean
check_record (const char *record, gsize slack, char **why_out)
{
  const char *why = NULL;
  gsize len = strlen (record);
  if (slack == 0 && len > SW_SPF_MAX_RECORD)
    why = "record too long";
  else if (len < 6 || g_ascii_strncasecmp (record, "v=spf1", 6) != 0 || (record[6] != ' ' && record[6] != '\0'))
    why = "not an SPF version 1 record";
  else
    {
      gboolean seen_redirect = FALSE, seen_exp = FALSE;
      gsize i = 6;
      while (why == NULL && i < len)
        {
          while (i < len && record[i] == ' ')
            i++;
          gsize start = i;
          while (i < len && record[i] != ' ')
            i++;
          if (i > start)
            {
              const char *term_why = NULL;
              if (!check_term (record + start, i - start, slack, &seen_redirect, &seen_exp, &term_why))
                why = term_why ? term_why : "syntax error";
            }
        }
    }
  if (why_out != NULL)
    *why_out = why ? g_strdup (why) : NULL;
  return why == NULL;
}

gboolean
sw_spf_record_is_acceptable (const char *record, char **why_out)
{
  g_return_val_if_fail (record != NULL, FALSE);
  return check_record (record, 0, why_out);
}

gboolean
sw_spf_explanation_is_acceptable (const char *text, char **why_out)
{
  g_return_val_if_fail (text != NULL, FALSE);
  const char *why = NULL;
  gsize len = strlen (text);
  MacroScan m = { .in_exp = TRUE };
  if (len > SW_SPF_MAX_EXPLANATION)
    why = "explanation too long";
  else if (!scan_macro_string (text, len, &m))
    why = m.why ? m.why : "malformed explanation";
  else if (m.compiled > COMPILED_TERM_SAFE)
    why = "explanation too large";
  if (why_out != NULL)
    *why_out = why ? g_strdup (why) : NULL;
  return why == NULL;
}

/* Longest mark appended by mark_spec(): "." kind "." marker ".invalid". */
#define MARK_SLACK (1u + 6u + 1u + SW_SPF_MARKER_LEN + 8u)

/* Appends @spec (without one trailing dot; "%{d}" if empty) and the mark of @kind. */
static void
mark_spec (GString *out, const char *spec, gsize spec_len, const char *kind, const char *marker)
{
  if (spec_len == 0)
    g_string_append (out, "%{d}");
  else
    g_string_append_len (out, spec, (gssize) (spec[spec_len - 1] == '.' ? spec_len - 1 : spec_len));
  g_string_append_printf (out, ".%s.%s.invalid", kind, marker);
}

static guint
cidr_value (const char *s, const char **end)
{
  guint v = 0;
  while (g_ascii_isdigit (*s))
    v = v * 10 + (guint) (*s++ - '0');
  *end = s;
  return v;
}

/* @t: a mechanism term without qualifier, @q: the qualifier text (may be empty). Appends
 * its marked form to @out; FALSE if the term needs no mark. */
static gboolean
mark_mechanism (GString *out, const char *q, const char *t, const SwSpfCall *call)
{
  gsize name_len = 0;
  while (g_ascii_isalnum (t[name_len]))
    name_len++;
  const char *rest = t + name_len;
  gboolean is_a = name_len == 1 && g_ascii_strncasecmp (t, "a", 1) == 0;
  gboolean is_mx = name_len == 2 && g_ascii_strncasecmp (t, "mx", 2) == 0;

  if (name_len == 6 && g_ascii_strncasecmp (t, "exists", 6) == 0 && *rest == ':')
    {
      g_string_append_printf (out, " %sexists:", q);
      mark_spec (out, rest + 1, strlen (rest + 1), "ex", call->marker);
      return TRUE;
    }
  if (name_len == 3 && g_ascii_strncasecmp (t, "ptr", 3) == 0)
    {
      /* Counted by this term (no DNS); the ptr lookups themselves are not marked. */
      g_string_append_printf (out, " exists:count.ptr.%s.invalid %s%s", call->marker, q, t);
      return TRUE;
    }
  if (!is_a && !is_mx)
    return FALSE;

  gsize rest_len = strlen (rest), spec_len = 0;
  gboolean has_cidr = FALSE;
  const char *why = NULL;
  if (!split_dual_cidr (rest, rest_len, &spec_len, &has_cidr, &why))
    return FALSE; /* not reached: the record passed the guard */
  guint v4 = 32, v6 = 128;
  const char *c = rest + spec_len;
  if (c[0] == '/' && c[1] != '/')
    v4 = cidr_value (c + 1, &c);
  if (c[0] == '/' && c[1] == '/')
    v6 = cidr_value (c + 2, &c);
  const char *spec = spec_len > 0 ? rest + 1 : "";
  gsize slen = spec_len > 0 ? spec_len - 1 : 0;
  guint prefix = call->ipv6 ? v6 : v4;

  if (prefix == 0)
    {
      /* Any address record matches a zero prefix: the question is whether one exists. */
      const char *kind = is_a ? (call->ipv6 ? "a6any" : "ex") : (call->ipv6 ? "mx6any" : "mx4any");
      g_string_append_printf (out, " %sexists:", q);
      mark_spec (out, spec, slen, kind, call->marker);
      return TRUE;
    }
  g_string_append_printf (out, " %s%s:", q, is_a ? "a" : "mx");
  mark_spec (out, spec, slen, is_a ? "a" : "mx", call->marker);
  if (!call->ipv6 && v4 != 32)
    g_string_append_printf (out, "/%u", v4);
  if (call->ipv6 && v6 != 128)
    g_string_append_printf (out, "//%u", v6);
  return TRUE;
}

char **
sw_spf_split (const char *text, char sep)
{
  gsize len = strlen (text);
  gsize n = len > 0 ? 1 : 0;
  for (const char *p = memchr (text, sep, len); p != NULL; p = memchr (p + 1, sep, len - (gsize) (p + 1 - text)))
    n++;
  char **pieces = g_malloc ((n + 1) * sizeof (char *) + len + 1);
  char *copy = (char *) (pieces + n + 1);
  memcpy (copy, text, len + 1);
  gsize k = 0;
  if (len > 0)
    {
      pieces[k++] = copy;
      for (char *p = memchr (copy, sep, len); p != NULL; p = memchr (p + 1, sep, len - (gsize) (p + 1 - copy)))
        {
          *p = '\0';
          pieces[k++] = p + 1;
        }
    }
  g_assert (k == n);
  pieces[k] = NULL;
  return pieces;
}

char *
sw_spf_record_simplify (const char *record, const SwSpfCall *call)
{
  gboolean marking = call != NULL && call->marker != NULL;
  g_autofree char **terms = sw_spf_split (record, ' ');
  gboolean has_all = FALSE;
  for (guint i = 1; terms[i] != NULL; i++)
    {
      const char *t = terms[i];
      if (*t != '\0' && strchr ("+-?~", *t) != NULL)
        t++;
      if (g_ascii_strcasecmp (t, "all") == 0)
        has_all = TRUE;
    }
  g_autoptr (GString) out = g_string_new ("v=spf1");
  for (guint i = 1; terms[i] != NULL; i++)
    {
      const char *t = terms[i];
      if (*t == '\0')
        continue;
      const char *eq = strchr (t, '=');
      const char *colon = strchr (t, ':');
      const char *slash = strchr (t, '/');
      gboolean modifier = eq != NULL && (colon == NULL || eq < colon) && (slash == NULL || eq < slash)
                          && g_ascii_isalpha (*t);
      if (modifier)
        {
          gsize n = (gsize) (eq - t);
          gboolean redirect = n == 8 && g_ascii_strncasecmp (t, "redirect", 8) == 0;
          gboolean exp = n == 3 && g_ascii_strncasecmp (t, "exp", 3) == 0;
          if ((!redirect && !exp) || (redirect && has_all))
            continue;
          if (exp && marking)
            {
              g_string_append (out, " exp=");
              mark_spec (out, eq + 1, strlen (eq + 1), "exp", call->marker);
              continue;
            }
          g_string_append_c (out, ' ');
          g_string_append (out, t);
          continue;
        }
      const char *m = (*t != '\0' && strchr ("+-?~", *t) != NULL) ? t + 1 : t;
      g_autofree char *q = g_strndup (t, (gsize) (m - t));
      /* libspf2 cannot store a /0 prefix (0 means "full length" in its compiled form):
       * an ip4/ip6 network /0 is written as the two halves of the address space. */
      if ((g_ascii_strncasecmp (m, "ip4:", 4) == 0 || g_ascii_strncasecmp (m, "ip6:", 4) == 0)
          && g_str_has_suffix (m, "/0"))
        {
          gboolean v4 = g_ascii_strncasecmp (m, "ip4:", 4) == 0;
          g_string_append_printf (out, " %s%s %s%s", q, v4 ? "ip4:0.0.0.0/1" : "ip6:::/1", q,
                                  v4 ? "ip4:128.0.0.0/1" : "ip6:8000::/1");
          continue;
        }
      if (marking && mark_mechanism (out, q, m, call))
        continue;
      g_string_append_c (out, ' ');
      g_string_append (out, t);
    }
  if (marking)
    {
      g_autofree char *why = NULL;
      if (!check_record (out->str, MARK_SLACK, &why))
        {
          g_debug ("marked record refused (%s)", why);
          return NULL;
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
