/* delay-dns: a DNS forwarder on 127.0.0.1 that answers every UDP query after a fixed
 * delay, by forwarding it to an upstream server on loopback: the "DNS server answering
 * after 20 ms" of the POP3 benchmark (bench/pop3-bench.sh, docs/benchmarks.md).
 *
 * Usage: delay-dns UPSTREAM_PORT DELAY_MS
 *   Listens on 127.0.0.1, UDP, a port chosen by the kernel, and prints "PORT n" on stdout
 *   once ready. Every query is sent at once to 127.0.0.1:UPSTREAM_PORT over one upstream
 *   socket with an ID of our own (so that two clients' equal IDs never mix); the answer is
 *   held until DELAY_MS after the query arrived, then sent to the client with the
 *   client's ID. Stops when stdin reaches EOF or on SIGTERM/SIGINT and prints to stderr
 *   "delay-dns: N UDP queries (at most M delayed at once), K truncated, D dropped,
 *   T s CPU". K counts upstream answers with the TC bit (relayed as they are: there is
 *   no TCP here); D counts queries that got no answer from us (table full, held bytes
 *   over the cap, upstream silent for DROP_AFTER_NS, a send that would block).
 *
 * Written in C so that the forwarder's own CPU (a burst of ~1,500 queries on a 2-core
 * machine) does not weigh on the proxy being measured.
 *
 * Design: one thread, ppoll() on the client socket, the upstream socket and stdin, with
 * the timeout of the next deadline. Our ID is the index of a slot in a table of 65,536;
 * IDs are handed out in arrival order and slots are given back in the same order, so the
 * table is itself the FIFO of queries: [head, tail) are in use, and because the delay is
 * constant their deadlines are in the same order. `cursor` (head <= cursor <= tail)
 * passes each slot once when its deadline has come: an answer already in is sent then, a
 * later one is sent as soon as it arrives. A slot goes back to the free side when it
 * reaches the head having been answered, or having waited DROP_AFTER_NS for its upstream
 * answer, so a lost answer holds back the reuse of IDs (for 5 s), never other answers.
 *
 * Limits: datagrams of more than MAX_DATAGRAM bytes are dropped, as are those shorter
 * than a DNS header; at most 65,536 queries in flight; held answers take at most
 * MAX_HELD_BYTES; at most RECV_BATCH datagrams per socket per wake-up. */
#define G_LOG_DOMAIN "sw-delay-dns"
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_DATAGRAM 4096
#define DNS_HEADER 12
#define SLOTS 65536u
#define DROP_AFTER_NS (5 * 1000000000LL)
#define MAX_HELD_BYTES (16u * 1024 * 1024)
#define RECV_BATCH 256
#define SOCKET_BUFFER (1 << 20)
#define MAX_DELAY_MS 60000

typedef enum {
  SLOT_FREE = 0,
  SLOT_WAITING,  /* forwarded, no upstream answer yet */
  SLOT_ANSWERED, /* answer held until the deadline */
  SLOT_DONE,     /* answered or dropped; given back when it reaches the head */
} SlotState;

typedef struct {
  int64_t arrival_ns;
  struct sockaddr_in client;
  unsigned char *answer; /* owned; SLOT_ANSWERED only */
  uint16_t answer_len;
  uint16_t client_id;
  uint8_t state;
} Slot;

typedef struct {
  int client_fd;   /* bound to 127.0.0.1:0, talks to the clients */
  int upstream_fd; /* connected to 127.0.0.1:UPSTREAM_PORT */
  int64_t delay_ns;
  Slot *slots;     /* SLOTS entries, owned */
  uint32_t head;   /* oldest slot in use (counters; the slot is counter % SLOTS) */
  uint32_t cursor; /* first slot whose deadline has not been handled */
  uint32_t tail;   /* next slot to hand out */
  size_t held_bytes;
  uint64_t queries;
  uint64_t truncated;
  uint64_t dropped;
  uint32_t delayed;     /* forwarded, neither answered to the client nor dropped */
  uint32_t max_delayed;
} Forwarder;

static volatile sig_atomic_t stop_signal;

static void
on_stop_signal (int sig)
{
  stop_signal = sig;
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parses a decimal integer in [min, max]; returns 0 on success. */
static int
parse_int (const char *s, long min, long max, long *out)
{
  char *end;
  long v;

  errno = 0;
  v = strtol (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

static int
udp_socket (void)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int size = SOCKET_BUFFER;

  if (fd < 0)
    return -1;
  /* a burst of queries must not overflow the default buffers; best effort (capped by
   * net.core.rmem_max/wmem_max) */
  (void) setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  (void) setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  return fd;
}

static void
slot_done (Forwarder *f, Slot *s)
{
  free (s->answer);
  if (s->state == SLOT_ANSWERED)
    f->held_bytes -= s->answer_len;
  s->answer = NULL;
  s->answer_len = 0;
  s->state = SLOT_DONE;
  f->delayed--;
}

/* Sends @len bytes of @answer (an upstream answer, our ID in its first two bytes) to the
 * client of @s with the client's ID, and marks @s done. */
static void
send_answer (Forwarder *f, Slot *s, unsigned char *answer, size_t len)
{
  answer[0] = (unsigned char) (s->client_id >> 8);
  answer[1] = (unsigned char) (s->client_id & 0xff);
  if (sendto (f->client_fd, answer, len, 0, (const struct sockaddr *) &s->client, sizeof s->client) < 0)
    f->dropped++; /* EAGAIN or an error: the client retries */
  slot_done (f, s);
}

static void
handle_query (Forwarder *f, unsigned char *buf, size_t len, const struct sockaddr_in *from, int64_t now)
{
  uint32_t id;
  Slot *s;

  f->queries++;
  if (len < DNS_HEADER || len > MAX_DATAGRAM)
    return;
  if (f->tail - f->head == SLOTS) {
    f->dropped++; /* 65,536 queries in flight: the client retries */
    return;
  }
  id = f->tail % SLOTS;
  s = &f->slots[id];
  s->arrival_ns = now;
  s->client = *from;
  s->client_id = (uint16_t) (buf[0] << 8 | buf[1]);
  s->answer = NULL;
  s->answer_len = 0;
  s->state = SLOT_WAITING;
  f->tail++;
  if (++f->delayed > f->max_delayed)
    f->max_delayed = f->delayed;

  buf[0] = (unsigned char) (id >> 8);
  buf[1] = (unsigned char) (id & 0xff);
  if (send (f->upstream_fd, buf, len, 0) < 0) {
    f->dropped++;
    slot_done (f, s);
  }
}

static void
handle_answer (Forwarder *f, unsigned char *buf, size_t len, int64_t now)
{
  Slot *s;

  if (len < DNS_HEADER || len > MAX_DATAGRAM)
    return;
  s = &f->slots[(uint32_t) (buf[0] << 8 | buf[1])];
  if (s->state != SLOT_WAITING)
    return; /* unknown, late after being dropped, or a duplicate */
  if (buf[2] & 0x02)
    f->truncated++;
  if (now >= s->arrival_ns + f->delay_ns) {
    send_answer (f, s, buf, len);
    return;
  }
  if (f->held_bytes + len > MAX_HELD_BYTES || (s->answer = malloc (len)) == NULL) {
    f->dropped++;
    slot_done (f, s);
    return;
  }
  memcpy (s->answer, buf, len);
  s->answer_len = (uint16_t) len;
  f->held_bytes += len;
  s->state = SLOT_ANSWERED;
}

/* Sends the held answers whose deadline has come, drops the queries the upstream left
 * unanswered too long, gives back the slots at the head. Returns the time of the next
 * thing to do, or -1 when nothing is pending. */
static int64_t
run_deadlines (Forwarder *f, int64_t now)
{
  int64_t next = -1;

  for (; f->cursor != f->tail; f->cursor++) {
    Slot *s = &f->slots[f->cursor % SLOTS];

    if (s->arrival_ns + f->delay_ns > now) {
      next = s->arrival_ns + f->delay_ns;
      break;
    }
    if (s->state == SLOT_ANSWERED)
      send_answer (f, s, s->answer, s->answer_len);
  }
  for (; f->head != f->tail; f->head++) {
    Slot *s = &f->slots[f->head % SLOTS];

    if (s->state == SLOT_WAITING && s->arrival_ns + DROP_AFTER_NS <= now) {
      f->dropped++;
      slot_done (f, s);
    }
    if (s->state != SLOT_DONE) {
      if (s->state == SLOT_WAITING && (next < 0 || s->arrival_ns + DROP_AFTER_NS < next))
        next = s->arrival_ns + DROP_AFTER_NS;
      break;
    }
    s->state = SLOT_FREE;
  }
  if ((int32_t) (f->cursor - f->head) < 0)
    f->cursor = f->head;
  return next;
}

/* Reads at most RECV_BATCH datagrams from @fd (until EAGAIN). */
static void
drain (Forwarder *f, int fd, int from_clients)
{
  static unsigned char buf[MAX_DATAGRAM];

  for (int i = 0; i < RECV_BATCH; i++) {
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    /* MSG_TRUNC: the datagram's real length, so that an over-long one is dropped, not cut */
    ssize_t n = recvfrom (fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *) &from, &from_len);

    if (n < 0) {
      if (errno == EINTR || errno == ECONNREFUSED)
        continue; /* ECONNREFUSED: an ICMP error from a send to a closed port */
      return;     /* EAGAIN, or an error we cannot do anything about */
    }
    if (from_clients) {
      if (from_len != sizeof from || from.sin_family != AF_INET)
        continue;
      handle_query (f, buf, (size_t) n, &from, now_ns ());
    } else {
      handle_answer (f, buf, (size_t) n, now_ns ());
    }
  }
}

int
main (int argc, char **argv)
{
  Forwarder f = { 0 };
  struct sockaddr_in addr = { .sin_family = AF_INET };
  socklen_t addr_len = sizeof addr;
  long upstream_port, delay_ms;
  struct sigaction sa = { .sa_handler = on_stop_signal };
  sigset_t stop_set, wait_mask;
  struct pollfd pfd[3];
  int stdin_open = 1;
  struct rusage ru;

  if (argc != 3 || parse_int (argv[1], 1, 65535, &upstream_port) != 0
      || parse_int (argv[2], 0, MAX_DELAY_MS, &delay_ms) != 0) {
    fprintf (stderr, "usage: delay-dns UPSTREAM_PORT DELAY_MS (0..%d)\n", MAX_DELAY_MS);
    return 2;
  }
  f.delay_ns = (int64_t) delay_ms * 1000000;
  f.slots = calloc (SLOTS, sizeof *f.slots);
  if (f.slots == NULL) {
    fprintf (stderr, "delay-dns: out of memory\n");
    return 1;
  }

  /* SIGTERM/SIGINT are blocked except inside ppoll(), so a signal never falls between
   * the check of stop_signal and the wait. */
  sigemptyset (&stop_set);
  sigaddset (&stop_set, SIGTERM);
  sigaddset (&stop_set, SIGINT);
  sigprocmask (SIG_BLOCK, &stop_set, &wait_mask);
  sigdelset (&wait_mask, SIGTERM);
  sigdelset (&wait_mask, SIGINT);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);

  f.client_fd = udp_socket ();
  f.upstream_fd = udp_socket ();
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (f.client_fd < 0 || f.upstream_fd < 0
      || bind (f.client_fd, (struct sockaddr *) &addr, sizeof addr) != 0
      || getsockname (f.client_fd, (struct sockaddr *) &addr, &addr_len) != 0) {
    fprintf (stderr, "delay-dns: cannot listen on 127.0.0.1: %s\n", strerror (errno));
    return 1;
  }
  {
    struct sockaddr_in up = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) upstream_port) };

    up.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (f.upstream_fd, (struct sockaddr *) &up, sizeof up) != 0) {
      fprintf (stderr, "delay-dns: cannot reach 127.0.0.1:%ld: %s\n", upstream_port, strerror (errno));
      return 1;
    }
  }
  printf ("PORT %u\n", (unsigned) ntohs (addr.sin_port));
  fflush (stdout);

  pfd[0] = (struct pollfd) { .fd = f.client_fd, .events = POLLIN };
  pfd[1] = (struct pollfd) { .fd = f.upstream_fd, .events = POLLIN };
  pfd[2] = (struct pollfd) { .fd = STDIN_FILENO, .events = POLLIN };
  while (!stop_signal) {
    int64_t next = run_deadlines (&f, now_ns ());
    struct timespec timeout, *timeout_p = NULL;

    if (next >= 0) {
      int64_t wait = next - now_ns ();

      if (wait < 0)
        wait = 0;
      timeout.tv_sec = (time_t) (wait / 1000000000LL);
      timeout.tv_nsec = (long) (wait % 1000000000LL);
      timeout_p = &timeout;
    }
    pfd[2].fd = stdin_open ? STDIN_FILENO : -1;
    if (ppoll (pfd, 3, timeout_p, &wait_mask) < 0) {
      if (errno == EINTR)
        continue;
      fprintf (stderr, "delay-dns: poll: %s\n", strerror (errno));
      break;
    }
    if (pfd[0].revents & (POLLIN | POLLERR))
      drain (&f, f.client_fd, 1);
    if (pfd[1].revents & (POLLIN | POLLERR))
      drain (&f, f.upstream_fd, 0);
    if (pfd[2].revents & POLLNVAL) {
      stdin_open = 0; /* no stdin at all: only a signal stops us */
    } else if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      static char sink[4096];
      ssize_t n = read (STDIN_FILENO, sink, sizeof sink);

      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        break; /* EOF */
    }
  }

  getrusage (RUSAGE_SELF, &ru);
  fprintf (stderr,
           "delay-dns: %" PRIu64 " UDP queries (at most %" PRIu32 " delayed at once), %" PRIu64
           " truncated, %" PRIu64 " dropped, %.3f s CPU\n",
           f.queries, f.max_delayed, f.truncated, f.dropped,
           (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
               + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  for (uint32_t i = f.head; i != f.tail; i++)
    free (f.slots[i % SLOTS].answer);
  free (f.slots);
  close (f.client_fd);
  close (f.upstream_fd);
  return 0;
}
