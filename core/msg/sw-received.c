#define G_LOG_DOMAIN "sw-msg"
#include "sw-received.h"
#include "sw-msg-private.h"
#include "sw-util.h"

#include <gmime/gmime.h>
#include <string.h>

/* Longest string kept from a Received field (host names are at most 255 octets; ids and
 * addresses get some slack). */
#define RECEIVED_MAX_ITEM 1024u

void
sw_received_free (SwReceived *r)
{
  if (r == NULL)
    return;
  g_free (r->from_helo);
  g_free (r->from_rdns);
  g_free (r->from_ip);
  g_free (r->by_host);
  g_free (r->with_protocol);
  g_free (r->id);
  g_free (r->envelope_from);
  g_free (r->for_address);
  g_free (r);
}

typedef enum
{
  TOKEN_WORD,
  TOKEN_COMMENT
} TokenKind;

typedef struct
{
  TokenKind kind;
  char *text;     /* a word, or the text inside the outer parentheses */
  gboolean owned; /* @text is a copy of its own, else it points into the tokens' text */
} Token;

static void
token_clear (gpointer data)
{
  Token *t = data;
  if (t->owned)
    g_free (t->text);
}

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A valid UTF-8 copy of at most RECEIVED_MAX_ITEM bytes. */
static char *
item_dup (const char *p, gsize len)
{
  if (len > RECEIVED_MAX_ITEM)
    len = RECEIVED_MAX_ITEM;
  return g_utf8_make_valid (p, (gssize)len);
}

/* Position of the last ';' outside comments, or -1. Only the four octets that matter are
 * looked at (strcspn() skips the rest in blocks). */
static gssize
find_date_separator (const char *s)
{
  gssize last = -1;
  int depth = 0;
  for (const char *p = s + strcspn (s, "\\();"); *p; p += 1 + strcspn (p + 1, "\\();"))
    {
      if (*p == '\\' && depth > 0 && p[1])
        p++;
      else if (*p == '(')
        depth++;
      else if (*p == ')' && depth > 0)
        depth--;
      else if (*p == ';' && depth == 0)
        last = p - s;
    }
  return last;
}

static GArray *
tokenize (const char *s, gsize len, char **text_out)
{
  GArray *tokens = g_array_sized_new (FALSE, FALSE, sizeof (Token), 16);
  g_array_set_clear_func (tokens, token_clear);
  char *work = g_utf8_validate_len (s, len, NULL) ? g_strndup (s, len) : NULL;
  *text_out = work;
  gsize i = 0;
  while (i < len)
    {
      if (is_space (s[i]))
        {
          i++;
          continue;
        }
      Token t = { TOKEN_WORD, NULL, FALSE };
      gsize start;
      if (s[i] == '(')
        {
          start = ++i;
          int depth = 1;
          while (i < len)
            {
              if (s[i] == '\\' && i + 1 < len)
                i++;
              else if (s[i] == '(')
                depth++;
              else if (s[i] == ')' && --depth == 0)
                break;
              i++;
            }
          t.kind = TOKEN_COMMENT;
        }
      else
        {
          start = i;
          while (i < len && !is_space (s[i]) && s[i] != '(')
            i++;
        }
      /* the octet ending the token (space, parenthesis) is read from @s, never @work */
      if (work != NULL && i - start <= RECEIVED_MAX_ITEM)
        {
          work[i] = '\0';
          t.text = work + start;
        }
      else
        {
          t.text = item_dup (s + start, i - start);
          t.owned = TRUE;
        }
      if (t.kind == TOKEN_COMMENT && i < len)
        i++; /* the closing parenthesis */
      g_array_append_val (tokens, t);
    }
  return tokens;
}

typedef enum
{
  CLAUSE_NONE,
  CLAUSE_FROM,
  CLAUSE_BY,
  CLAUSE_VIA,
  CLAUSE_WITH,
  CLAUSE_ID,
  CLAUSE_FOR
} Clause;

static Clause
keyword (const char *word)
{
  static const struct
  {
    const char *word;
    Clause clause;
  } keywords[] = {
    { "from", CLAUSE_FROM }, { "by", CLAUSE_BY }, { "via", CLAUSE_VIA },
    { "with", CLAUSE_WITH }, { "id", CLAUSE_ID }, { "for", CLAUSE_FOR },
  };
  for (guint i = 0; i < G_N_ELEMENTS (keywords); i++)
    if (g_ascii_strcasecmp (word, keywords[i].word) == 0)
      return keywords[i].clause;
  return CLAUSE_NONE;
}

/* A comment's text and an ASCII-lower-case copy of it, searched in place of the text. */
typedef struct
{
  const char *text;
  const char *lower;
} Comment;

/* Case-insensitive search of @needle (lower-case ASCII) in @c's text from @from (a
 * pointer into it) on: strstr() on the lower-case copy. */
static const char *
find_ci (const Comment *c, const char *from, const char *needle)
{
  const char *hit = strstr (c->lower + (from - c->text), needle);
  return hit != NULL ? c->text + (hit - c->lower) : NULL;
}

/* Copy of @word without surrounding angle brackets and a trailing ';' or ','. */
static char *
strip_address (const char *word)
{
  gsize len = strlen (word);
  while (len > 0 && (word[len - 1] == ';' || word[len - 1] == ','))
    len--;
  if (len > 0 && word[0] == '<')
    {
      word++;
      len--;
      const char *close = memchr (word, '>', len);
      if (close != NULL)
        len = (gsize)(close - word);
    }
  return g_strndup (word, len);
}

/* Host name as a receiver writes it: lower-case, without the trailing dot. */
static char *
host_dup (const char *p, gsize len)
{
  while (len > 0 && p[len - 1] == '.')
    len--;
  if (len == 0)
    return NULL;
  /* ASCII without 'I' lowers the same in every locale (a Turkic one lowers 'I' to a
   * dotless i): no need for g_utf8_strdown()'s Unicode tables */
  gboolean plain = len <= RECEIVED_MAX_ITEM;
  for (gsize i = 0; i < len && plain; i++)
    plain = (guchar)p[i] < 0x80 && p[i] != 'I' && p[i] != '\0';
  if (plain)
    return g_ascii_strdown (p, (gssize)len);
  g_autofree char *copy = item_dup (p, len);
  return g_utf8_strdown (copy, -1);
}

/* The first word of @p (up to a space, ')' or the end). */
static char *
first_word (const char *p)
{
  while (*p && is_space (*p))
    p++;
  gsize len = 0;
  while (p[len] && !is_space (p[len]) && p[len] != ')' && p[len] != '(')
    len++;
  return len > 0 ? g_strndup (p, len) : NULL;
}

static gboolean
is_address_word (const char *word)
{
  if (!sw_msg_may_be_address (word))
    return FALSE;
  g_autofree char *ip = sw_ip_normalize (word);
  return ip != NULL;
}

/* TRUE if @s is an IPv4 address exactly as sw_ip_normalize() writes one: four decimal
 * numbers up to 255 without leading zeros, joined by dots. It would return a copy. */
static gboolean
is_canonical_ipv4 (const char *s)
{
  for (guint part = 0; part < 4; part++)
    {
      if (part > 0 && *s++ != '.')
        return FALSE;
      guint v = 0, digits = 0;
      while (g_ascii_isdigit (*s) && digits < 4)
        {
          v = v * 10 + (guint)(*s++ - '0');
          digits++;
        }
      if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[-(gssize)digits] == '0'))
        return FALSE;
    }
  return *s == '\0';
}

/* What the comments of the from-clause say about the client. */
typedef struct
{
  char *helo;          /* "helo=x" (Exim), "(HELO x)"/"(EHLO x)"/"(LHLO x)" (qmail, Yahoo) */
  gboolean helo_given; /* one of these forms was there, even with an empty name */
  char *rdns_word;     /* the word before the [IP] literal (Postfix, Sendmail) */
  char *bracket_ip;    /* [IP] literal in a comment */
  char *bare_ip;       /* a comment that is only an address (Exchange, qmail) */
  gboolean forged;     /* "(may be forged)" (Sendmail) */
} FromInfo;

static void
from_info_clear (FromInfo *info)
{
  g_clear_pointer (&info->helo, g_free);
  g_clear_pointer (&info->rdns_word, g_free);
  g_clear_pointer (&info->bracket_ip, g_free);
  g_clear_pointer (&info->bare_ip, g_free);
}

static void
scan_from_comment (const Comment *c, FromInfo *info)
{
  const char *text = c->text;
  if (find_ci (c, text, "may be forged") != NULL)
    info->forged = TRUE;

  const char *h = find_ci (c, text, "helo=");
  if (h == NULL)
    h = find_ci (c, text, "ehlo=");
  if (h != NULL && !info->helo_given)
    {
      info->helo = first_word (h + 5);
      info->helo_given = TRUE;
    }
  const char *t = text;
  while (*t && is_space (*t))
    t++;
  gboolean hello = g_ascii_strncasecmp (t, "HELO", 4) == 0 || g_ascii_strncasecmp (t, "EHLO", 4) == 0
                   || g_ascii_strncasecmp (t, "LHLO", 4) == 0;
  if (hello && (t[4] == '\0' || is_space (t[4])) && !info->helo_given)
    {
      info->helo = first_word (t + 4);
      info->helo_given = TRUE;
    }

  const char *open = strchr (text, '[');
  const char *close = open ? strchr (open, ']') : NULL;
  if (open != NULL && close != NULL && info->bracket_ip == NULL)
    {
      g_autofree char *inside = g_strndup (open + 1, (gsize)(close - open - 1));
      info->bracket_ip = is_canonical_ipv4 (inside) ? g_strdup (inside) : sw_ip_normalize (inside);
      if (info->bracket_ip != NULL && info->rdns_word == NULL)
        {
          /* The last word before the literal, if any ("rdns [IP]", "ident@rdns [IP]"). */
          const char *end = open;
          while (end > text && is_space (end[-1]))
            end--;
          const char *start = end;
          while (start > text && !is_space (start[-1]))
            start--;
          if (end > start && memchr (start, '=', (gsize)(end - start)) == NULL)
            {
              const char *at = memchr (start, '@', (gsize)(end - start));
              if (at != NULL)
                start = at + 1;
              if (end > start)
                info->rdns_word = g_strndup (start, (gsize)(end - start));
            }
        }
      return;
    }

  g_autofree char *word = first_word (text);
  if (word != NULL && info->bare_ip == NULL)
    {
      g_autofree char *rest = g_strstrip (g_strdup (text));
      /* "(IP)", or qmail's "(ident@IP)". */
      const char *at = strrchr (word, '@');
      if (g_strcmp0 (rest, word) == 0)
        info->bare_ip = sw_ip_normalize (at != NULL ? at + 1 : word);
    }
}

static gboolean
comment_says_authenticated (const Comment *c)
{
  const char *text = c->text;
  for (const char *p = find_ci (c, text, "authenticated"); p != NULL; p = find_ci (c, p + 1, "authenticated"))
    {
      gboolean negated = (p >= text + 2 && g_ascii_strncasecmp (p - 2, "un", 2) == 0)
                         || (p >= text + 4 && g_ascii_strncasecmp (p - 4, "not ", 4) == 0);
      if (!negated)
        return TRUE;
    }
  return FALSE;
}

static gboolean
comment_says_local (const Comment *c)
{
  const char *text = c->text;
  const char *t = text;
  while (*t && is_space (*t))
    t++;
  if (find_ci (c, t, "from userid") != NULL)
    return TRUE;
  if (g_ascii_strncasecmp (t, "qmail ", 6) == 0 && find_ci (c, t, "invoked") != NULL)
    return TRUE;
  return FALSE;
}

static char *
comment_envelope_from (const Comment *c)
{
  const char *text = c->text;
  const char *p = find_ci (c, text, "envelope-from");
  gsize skip = strlen ("envelope-from");
  if (p == NULL)
    {
      p = find_ci (c, text, "envelope-sender");
      skip = strlen ("envelope-sender");
    }
  if (p == NULL)
    return NULL;
  p += skip;
  while (*p && (is_space (*p) || *p == '=' || *p == ':'))
    p++;
  g_autofree char *word = first_word (p);
  if (word == NULL)
    return NULL;
  return strip_address (word);
}

static gboolean
protocol_is_authenticated (const char *proto)
{
  static const char *const names[] = { "ESMTPA", "ESMTPSA", "LMTPA", "LMTPSA", "UTF8SMTPA", "UTF8SMTPSA" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (proto, names[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
parse_clauses (SwReceived *r, const char *text, gsize len)
{
  g_autofree char *token_text = NULL;
  g_autoptr (GArray) tokens = tokenize (text, len, &token_text);
  Clause clause = CLAUSE_NONE;
  gboolean first = FALSE;
  const char *from_word = NULL;
  FromInfo info = { NULL, FALSE, NULL, NULL, NULL, FALSE };
  GString *with = NULL;
  gboolean with_open = FALSE;

  for (guint i = 0; i < tokens->len; i++)
    {
      const Token *t = &g_array_index (tokens, Token, i);
      if (t->kind == TOKEN_WORD)
        {
          Clause k = keyword (t->text);
          /* "from" and "by" are keywords only where a clause can start; a word right
           * after a keyword is that clause's value even if it looks like a keyword. */
          if (k != CLAUSE_NONE && !first)
            {
              clause = k;
              first = TRUE;
              with_open = FALSE;
              continue;
            }
        }

      /* the lower-case copy of a comment: on the stack unless it is long */
      char lower_small[256];
      g_autofree char *lower_big = NULL;
      Comment comment = { t->text, NULL };
      if (t->kind == TOKEN_COMMENT)
        {
          gsize n = strlen (t->text);
          char *lower = n < sizeof lower_small ? lower_small : (lower_big = g_malloc (n + 1));
          for (gsize k = 0; k <= n; k++)
            lower[k] = g_ascii_tolower (t->text[k]);
          comment.lower = lower;
          /* Exim's client comment holds the client's own HELO: never read it as a claim. */
          if (find_ci (&comment, t->text, "helo=") == NULL && comment_says_authenticated (&comment))
            r->authenticated = TRUE;
          if (comment_says_local (&comment))
            r->local = TRUE;
          if (r->envelope_from == NULL)
            r->envelope_from = comment_envelope_from (&comment);
          /* Sendmail's local submission: "(from user@localhost) by host ... id x". */
          if (clause == CLAUSE_NONE && g_ascii_strncasecmp (t->text, "from ", 5) == 0)
            r->local = TRUE;
        }

      switch (clause)
        {
        case CLAUSE_FROM:
          if (t->kind == TOKEN_WORD && first)
            from_word = t->text;
          else if (t->kind == TOKEN_COMMENT)
            scan_from_comment (&comment, &info);
          break;
        case CLAUSE_BY:
          if (t->kind == TOKEN_WORD && first && r->by_host == NULL)
            r->by_host = item_dup (t->text, strlen (t->text));
          break;
        case CLAUSE_WITH:
          if (t->kind == TOKEN_WORD && first && with == NULL)
            {
              with = g_string_new (t->text);
              with_open = g_ascii_strcasecmp (t->text, "Microsoft") == 0;
            }
          else if (t->kind == TOKEN_WORD && with_open && with->len < 64)
            g_string_append_printf (with, " %s", t->text);
          else
            with_open = FALSE;
          break;
        case CLAUSE_ID:
          if (t->kind == TOKEN_WORD && first && r->id == NULL)
            r->id = strip_address (t->text);
          break;
        case CLAUSE_FOR:
          if (t->kind == TOKEN_WORD && first && r->for_address == NULL)
            r->for_address = strip_address (t->text);
          break;
        case CLAUSE_VIA:
        case CLAUSE_NONE:
          break;
        }
      first = FALSE;
    }

  if (with != NULL)
    {
      r->with_protocol = g_string_free (with, FALSE);
      if (g_ascii_strncasecmp (r->with_protocol, "local", 5) == 0)
        r->local = TRUE;
      if (protocol_is_authenticated (r->with_protocol))
        r->authenticated = TRUE;
    }

  if (from_word != NULL || info.bracket_ip != NULL || info.bare_ip != NULL)
    {
      gboolean from_is_address = from_word != NULL && is_address_word (from_word);
      const char *rdns = NULL;
      if (info.helo_given)
        {
          /* Exim, qmail, Yahoo: the from-word is what the receiver found (rDNS, the
           * address, or "unknown"), the HELO is given separately. */
          r->from_helo = g_strdup (info.helo); /* NULL for an empty "(HELO )" */
          rdns = info.rdns_word ? info.rdns_word : (from_is_address ? NULL : from_word);
          r->rdns_recorded = rdns != NULL || info.rdns_word != NULL;
        }
      else
        {
          /* Postfix, Sendmail, Exchange, Gmail: "from HELO (rdns [IP])" or "(IP)". */
          if (from_word != NULL)
            r->from_helo = g_strdup (from_word);
          rdns = info.rdns_word;
          r->rdns_recorded = rdns != NULL;
        }
      /* "unknown" (Postfix, qmail) and "softdnserr" (Courier): no reverse name. */
      if (rdns != NULL && !info.forged && g_ascii_strcasecmp (rdns, "unknown") != 0
          && g_ascii_strcasecmp (rdns, "softdnserr") != 0 && !is_address_word (rdns) && rdns[0] != '[')
        r->from_rdns = host_dup (rdns, strlen (rdns));
      if (info.bracket_ip != NULL)
        r->from_ip = g_strdup (info.bracket_ip);
      else if (info.bare_ip != NULL)
        r->from_ip = g_strdup (info.bare_ip);
      else if (from_is_address)
        r->from_ip = sw_ip_normalize (from_word);
    }
  from_info_clear (&info);
}

/* Reads @n decimal digits at *@p (advancing it); FALSE if they are not all digits. */
static gboolean
read_digits (const char **p, guint n, guint *out)
{
  guint v = 0;
  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit ((*p)[i]))
        return FALSE;
      v = v * 10 + (guint)((*p)[i] - '0');
    }
  *p += n;
  *out = v;
  return TRUE;
}

/* Days from 1970-01-01 to the proleptic Gregorian date (H. Hinnant's days_from_civil). */
static gint64
days_from_civil (gint64 y, guint m, guint d)
{
  y -= m <= 2;
  gint64 era = (y >= 0 ? y : y - 399) / 400;
  guint yoe = (guint)(y - era * 400);
  guint doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  guint doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (gint64)doe - 719468;
}

/* The date of a Received field in the form receivers write it, "Tue, 1 Aug 2023 10:04:05
 * +0000" (the day name optional, a trailing comment allowed), read without GMime; FALSE
 * for anything else, which g_mime_utils_header_decode_date() then reads. Only dates that
 * give the same time both ways are taken here: a 4-digit year from 1970, a day that
 * exists in its month, hours 0-23, minutes and seconds 0-59, an offset of at most 23:59
 * (tests/core/test-received.c compares the two on generated dates). */
static gboolean
parse_date_fast (const char *s, gint64 *out)
{
  static const char days[] = "MonTueWedThuFriSatSun";
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const char *p = s;
  if (g_ascii_isalpha (p[0]))
    {
      gboolean day_name = FALSE;
      for (guint i = 0; i < 7 && !day_name; i++)
        day_name = strncmp (p, days + 3 * i, 3) == 0;
      if (!day_name || p[3] != ',' || p[4] != ' ')
        return FALSE;
      p += 5;
    }
  guint day, year, hour, min, sec, tz_h, tz_m, month = 0;
  if (!read_digits (&p, g_ascii_isdigit (p[0]) && g_ascii_isdigit (p[1]) ? 2 : 1, &day) || *p++ != ' ')
    return FALSE;
  for (guint i = 0; i < 12 && month == 0; i++)
    if (strncmp (p, months + 3 * i, 3) == 0)
      month = i + 1;
  if (month == 0 || p[3] != ' ')
    return FALSE;
  p += 4;
  if (!read_digits (&p, 4, &year) || *p++ != ' ' || !read_digits (&p, 2, &hour) || *p++ != ':'
      || !read_digits (&p, 2, &min) || *p++ != ':' || !read_digits (&p, 2, &sec) || *p++ != ' ')
    return FALSE;
  char sign = *p++;
  if ((sign != '+' && sign != '-') || !read_digits (&p, 2, &tz_h) || !read_digits (&p, 2, &tz_m))
    return FALSE;
  /* the end, or one comment ("(UTC)") */
  if (*p != '\0' && !(p[0] == ' ' && p[1] == '(' && strchr (p + 2, '(') == NULL && strchr (p + 2, ')') != NULL
                      && strchr (p + 2, ')')[1] == '\0'))
    return FALSE;
  static const guint8 month_days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  gboolean leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1970 || day < 1 || day > month_days[month - 1] || (month == 2 && day == 29 && !leap) || hour > 23
      || min > 59 || sec > 59 || tz_h > 23 || tz_m > 59)
    return FALSE;
  gint64 offset = (gint64)tz_h * 3600 + (gint64)tz_m * 60;
  *out = days_from_civil (year, month, day) * 86400 + (gint64)hour * 3600 + (gint64)min * 60 + (gint64)sec
         - (sign == '-' ? -offset : offset);
  return TRUE;
}

SwReceived *
sw_received_parse (const char *value)
{
  SwReceived *r = g_new0 (SwReceived, 1);
  r->timestamp = -1;
  if (value == NULL)
    return r;

  gsize len = strlen (value);
  gssize semi = find_date_separator (value);
  if (semi >= 0)
    {
      g_autofree char *date = g_strstrip (g_strdup (value + semi + 1));
      if (*date != '\0' && !parse_date_fast (date, &r->timestamp))
        {
          sw_msg_gmime_init ();
          g_autoptr (GDateTime) dt = g_mime_utils_header_decode_date (date);
          if (dt != NULL)
            r->timestamp = g_date_time_to_unix (dt);
        }
      len = (gsize)semi;
    }
  parse_clauses (r, value, len);
  r->parsed = r->from_helo != NULL || r->from_ip != NULL || r->by_host != NULL || r->with_protocol != NULL
              || r->id != NULL || r->local || r->timestamp >= 0;
  return r;
}
