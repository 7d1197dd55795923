#define G_LOG_DOMAIN "sw-spf-test"
#include "sw-spf.h"
int main (int argc, char **argv) { g_test_init (&argc, &argv, NULL); return g_test_run (); }
