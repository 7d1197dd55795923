/* sw-verify-json.h: a verification result as JSON (field names in docs/json.md; they are
 * stable: new fields may be added, existing ones keep their name and meaning).
 * Thread-safe; pure functions. */
#pragma once
#include "sw-verifier.h"
#include <json-glib/json-glib.h>
G_BEGIN_DECLS

#define SW_JSON_VERSION 1

/* The result as a JSON object node. @file may be NULL; @index is the message's position
 * in an mbox (or -1). Transfer full. */
JsonNode *sw_verify_result_to_json_node (const SwVerifyResult *result, const char *file, int index);

/* The same, serialised on one line (@pretty FALSE) or indented. Transfer full. */
char *sw_verify_result_to_json (const SwVerifyResult *result, const char *file, int index, gboolean pretty);

G_END_DECLS
