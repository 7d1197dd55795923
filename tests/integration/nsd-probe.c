/* nsd-probe.c: see nsd-probe.h. */
#include "nsd-probe.h"
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <sys/socket.h>
#include <unistd.h>

gboolean
sw_test_dns_server_answers (guint port, const char *name)
{
  guint8 query[512], reply[512];
  int qlen = res_mkquery (ns_o_query, name, ns_c_in, ns_t_soa, NULL, 0, NULL, query, sizeof query);
  g_assert_cmpint (qlen, >, 0);
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  g_assert_cmpint (fd, >=, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((guint16) port) };
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  gboolean answered = FALSE;
  if (sendto (fd, query, (size_t) qlen, 0, (struct sockaddr *) &sa, sizeof sa) == qlen)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      if (poll (&pfd, 1, 300) == 1 && recv (fd, reply, sizeof reply, 0) > 0)
        answered = TRUE;
    }
  close (fd);
  return answered;
}
