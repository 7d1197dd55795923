/* sw-config.h: the user's accounts and settings ($XDG_CONFIG_HOME/spoofwatch/spoofwatch.conf).
 *
 * The file is a GKeyFile written by the app and editable by hand (docs/config.md):
 *
 *   [general]
 *   authserv-id=spoofwatch-0123456789abcdef
 *   demo=true
 *
 *   [account work]
 *   protocol=pop3
 *   listen-port=11995
 *   upstream-host=pop.example.net
 *   upstream-port=995
 *   tls=implicit
 *   provider-hosts=*.mail.example.net;
 *   trusted-hops=0
 *   trusted-authserv-ids=mx.example.net;
 *
 * Loading validates everything and reports the first problem with the file name and the
 * line it is on ("spoofwatch.conf:12: [account work] tls: ..."). Comments written by hand
 * survive a load/save round trip. A SwConfig is not thread-safe: one thread at a time
 * (the app loads it once at start-up and copies what the proxies need). */
#pragma once
#include "sw-types.h"
G_BEGIN_DECLS

/* How the proxy reaches the real server. "none" is allowed only to a loopback host. */
typedef enum
{
  SW_TLS_MODE_CONFIG_IMPLICIT = 0, /* "implicit": TLS from the first byte (POP3S, 995) */
  SW_TLS_MODE_CONFIG_STARTTLS,     /* "starttls": STLS after the greeting (110) */
  SW_TLS_MODE_CONFIG_NONE,         /* "none": plain text, loopback upstream only */
  SW_TLS_MODE_CONFIG_COUNT
} SwTlsModeConfig;

/* "implicit", "starttls", "none". Static; "unknown" for other values. Thread-safe. */
const char *sw_tls_mode_config_to_string (SwTlsModeConfig mode);
/* Parses the words above (case-insensitive). FALSE if unknown. Thread-safe. */
gboolean sw_tls_mode_config_from_string (const char *word, SwTlsModeConfig *out);

/* One mail account. Plain data: every field is owned by the struct. */
typedef struct
{
  char *name;          /* [A-Za-z0-9._-], 1 to SW_CONFIG_MAX_NAME chars */
  char *protocol;      /* "pop3" (the only one so far) */
  guint16 listen_port; /* local port on 127.0.0.1 and ::1 */
  char *upstream_host; /* host name or IP address of the real server */
  guint16 upstream_port;
  SwTlsModeConfig tls;
  char **provider_hosts;       /* NULL-terminated glob patterns, or NULL (automatic) */
  int trusted_hops;            /* >0: boundary Received position; 0: automatic */
  char **trusted_authserv_ids; /* NULL-terminated, or NULL */
  int read_ahead;              /* "read-ahead": messages fetched and verified before the
                                * client asks for them, 0 to SW_CONFIG_MAX_READ_AHEAD; 0: off */
} SwAccount;

#define SW_CONFIG_MAX_NAME 64u     /* characters of an account name */
#define SW_CONFIG_MAX_ACCOUNTS 64u /* accounts in one file */
#define SW_CONFIG_DEFAULT_READ_AHEAD 32 /* "read-ahead" when the key is absent */
#define SW_CONFIG_MAX_READ_AHEAD 256    /* the largest "read-ahead" */
#define SW_CONFIG_MAX_FILE_SIZE (1024u * 1024)

/* A new account with protocol "pop3", tls implicit, read-ahead
 * SW_CONFIG_DEFAULT_READ_AHEAD and everything else empty.
 * Transfer full. Thread-safe. */
SwAccount *sw_account_new (void);
/* A deep copy of @account. Transfer full. Thread-safe. */
SwAccount *sw_account_copy (const SwAccount *account);
/* Frees @account and its fields; NULL is allowed. */
void sw_account_free (SwAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwAccount, sw_account_free)

/* Checks @account against the rules of docs/config.md (name, protocol, ports, host,
 * "tls=none only to a loopback upstream", patterns, hop count, authserv-ids). FALSE with
 * SW_CONFIG_ERROR_INVALID and a message naming the account and the key otherwise.
 * Thread-safe. */
gboolean sw_account_validate (const SwAccount *account, GError **error) G_GNUC_WARN_UNUSED_RESULT;

typedef struct _SwConfig SwConfig;

/* An empty configuration: no account, demo on, a fresh authserv-id made with
 * sw_authres_new_authserv_id(). Transfer full. */
SwConfig *sw_config_new (void);

/* Reads and validates @path. NULL with an error: SW_CONFIG_ERROR_NOT_FOUND when the file
 * does not exist, SW_CONFIG_ERROR_IO when it cannot be read or is over
 * SW_CONFIG_MAX_FILE_SIZE, SW_CONFIG_ERROR_SYNTAX / SW_CONFIG_ERROR_INVALID with
 * "PATH:LINE: ..." (the line of the offending key, or of the group header for a missing
 * key). A file without [general] authserv-id gets a fresh one (see
 * sw_config_is_modified()). Transfer full. */
SwConfig *sw_config_load (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Writes @config to @path atomically with mode 0600, creating missing parent folders
 * with mode 0700. Keeps the comments of the loaded file. FALSE + SW_CONFIG_ERROR_IO on
 * failure. Clears the modified flag. */
gboolean sw_config_save (SwConfig *config, const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* TRUE when @config holds changes not yet saved (an added account, or an authserv-id
 * generated at load time). */
gboolean sw_config_is_modified (SwConfig *config);

void sw_config_free (SwConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwConfig, sw_config_free)

/* $XDG_CONFIG_HOME/spoofwatch/spoofwatch.conf (g_get_user_config_dir()). Transfer full.
 * Thread-safe. */
char *sw_config_default_path (void);

/* Validates @account and adds a copy of it. FALSE + SW_CONFIG_ERROR_INVALID when it is
 * invalid, or its name or listen port is already used by another account, or there are
 * SW_CONFIG_MAX_ACCOUNTS already. */
gboolean sw_config_add_account (SwConfig *config, const SwAccount *account,
                                GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The accounts in file order: SwAccount* owned by @config (transfer none), valid until
 * the next change of @config. Never NULL. */
GPtrArray *sw_config_get_accounts (SwConfig *config);

/* The account named @name, or NULL. Transfer none. */
const SwAccount *sw_config_find_account (SwConfig *config, const char *name);

/* Our per-install authserv-id ("spoofwatch-" + 16 hex digits). Transfer none. */
const char *sw_config_get_authserv_id (SwConfig *config);

/* [general] demo: whether the demo account starts when no account is configured
 * (default TRUE). */
gboolean sw_config_get_demo (SwConfig *config);
void sw_config_set_demo (SwConfig *config, gboolean demo);

/* Replaces the account named @old_name by a copy of @account (which may carry another
 * name), keeping its position in the file. FALSE + SW_CONFIG_ERROR_INVALID when @account
 * is invalid, when no account is named @old_name, or when @account's name or listen port
 * is used by another account. */
gboolean sw_config_replace_account (SwConfig *config, const char *old_name, const SwAccount *account,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Removes the account named @name. Returns FALSE when there is none. */
gboolean sw_config_remove_account (SwConfig *config, const char *name);

/* [general] popup-verdicts: the verdicts that raise a desktop pop-up, as a bit set of
 * SW_CONFIG_VERDICT_BIT (verdict). Default: quarantine and reject. In the file a list of
 * verdict words ("quarantine;reject;"); an empty list means no pop-ups. */
#define SW_CONFIG_VERDICT_BIT(verdict) (1u << (guint)(verdict))
#define SW_CONFIG_DEFAULT_POPUP_VERDICTS \
  (SW_CONFIG_VERDICT_BIT (SW_VERDICT_QUARANTINE) | SW_CONFIG_VERDICT_BIT (SW_VERDICT_REJECT))
guint sw_config_get_popup_verdicts (SwConfig *config);
/* Bits beyond SW_VERDICT_COUNT are ignored. */
void sw_config_set_popup_verdicts (SwConfig *config, guint verdict_bits);

/* [general] first-run-done: TRUE once the user has passed the first-run screen (default
 * FALSE). */
gboolean sw_config_get_first_run_done (SwConfig *config);
void sw_config_set_first_run_done (SwConfig *config, gboolean done);

#define SW_CONFIG_ERROR (sw_config_error_quark ())
GQuark sw_config_error_quark (void);
/* Codes of SW_CONFIG_ERROR; never renumbered. */
typedef enum
{
  SW_CONFIG_ERROR_NOT_FOUND = 1, /* the file does not exist */
  SW_CONFIG_ERROR_IO = 2,        /* cannot read or write it */
  SW_CONFIG_ERROR_SYNTAX = 3,    /* not a key file */
  SW_CONFIG_ERROR_INVALID = 4,   /* a value breaks a rule */
} SwConfigError;

G_END_DECLS
