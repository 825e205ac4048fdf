/*
 * souk-kafka-mock: runs a librdkafka mock cluster (the Kafka protocol implementation librdkafka's
 * own tests use) and serves its fault controls over a line protocol on a TCP port of 127.0.0.1.
 *
 *   souk-kafka-mock [--brokers N] [--control-port P] [--die-with-parent]
 *
 * stdout gets two lines once everything listens:
 *   <bootstrap list, comma separated>
 *   control 127.0.0.1:<port>
 *
 * Control protocol: one command per line, answered by one line, "ok [value]" or "err <why>".
 * Errors are Kafka error codes, by number or by librdkafka name (NOT_LEADER_FOR_PARTITION).
 *   ping                                      bootstrap
 *   broker_down <id>                          broker_up <id>
 *   broker_rtt <id> <ms>                      broker_rack <id> <rack>
 *   push_errors <apikey> <err>...             push_error_rtts <broker> <apikey> <err>:<rtt_ms>...
 *   clear_errors <apikey>                     error_count <broker> <apikey>
 *   topic_create <topic> <partitions> <rf>    topic_error <topic> <err>
 *   partition_leader <topic> <part> <broker>  partition_follower <topic> <part> <broker>
 *   coordinator <group|transaction> <key> <broker>
 *   apiversion <apikey> <min> <max>
 * SIGTERM or SIGINT: exits 0 at once.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_LINE 4096
#define MAX_ARGS 256

struct client {
  int fd;
  size_t len;
  char buf[MAX_LINE];
};

static int signal_pipe[2] = {-1, -1};
static rd_kafka_mock_cluster_t *mcluster;

static void on_signal(int sig) {
  (void)sig;
  char c = 0;
  if (write(signal_pipe[1], &c, 1) < 0) {
    /* nothing useful to do inside a handler */
  }
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("souk-kafka-mock: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static int parse_int(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end)
    return -1;
  *out = v;
  return 0;
}

/* A Kafka error by number or by name, with or without the RD_KAFKA_RESP_ERR_ prefix. */
static int parse_error(const char *s, rd_kafka_resp_err_t *out) {
  long v;
  if (parse_int(s, &v) == 0) {
    *out = (rd_kafka_resp_err_t)v;
    return 0;
  }
  if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0)
    s += 18;
  const struct rd_kafka_err_desc *descs;
  size_t cnt;
  rd_kafka_get_err_descs(&descs, &cnt);
  for (size_t i = 0; i < cnt; i++) {
    if (descs[i].name && strcasecmp(descs[i].name, s) == 0) {
      *out = descs[i].code;
      return 0;
    }
  }
  return -1;
}

static void reply_err(char *out, size_t n, rd_kafka_resp_err_t err) {
  snprintf(out, n, "err %s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
}

static void reply_result(char *out, size_t n, rd_kafka_resp_err_t err) {
  if (err)
    reply_err(out, n, err);
  else
    snprintf(out, n, "ok");
}

#define NEED(count, usage)                                      \
  do {                                                          \
    if (argc != (count)) {                                      \
      snprintf(out, n, "err usage: %s", usage);                 \
      return;                                                   \
    }                                                           \
  } while (0)

#define INT_ARG(var, idx)                                       \
  long var;                                                     \
  if (parse_int(argv[idx], &var)) {                             \
    snprintf(out, n, "err not a number: %s", argv[idx]);        \
    return;                                                     \
  }

#define ERR_ARG(var, str)                                       \
  rd_kafka_resp_err_t var;                                      \
  if (parse_error(str, &var)) {                                 \
    snprintf(out, n, "err unknown error: %s", str);             \
    return;                                                     \
  }

static void run_command(int argc, char **argv, char *out, size_t n) {
  const char *cmd = argv[0];

  if (!strcmp(cmd, "ping")) {
    snprintf(out, n, "ok");
  } else if (!strcmp(cmd, "bootstrap")) {
    snprintf(out, n, "ok %s", rd_kafka_mock_cluster_bootstraps(mcluster));
  } else if (!strcmp(cmd, "broker_down") || !strcmp(cmd, "broker_up")) {
    NEED(2, "broker_down|broker_up <id>");
    INT_ARG(id, 1);
    reply_result(out, n,
                 cmd[7] == 'd' ? rd_kafka_mock_broker_set_down(mcluster, (int32_t)id)
                               : rd_kafka_mock_broker_set_up(mcluster, (int32_t)id));
  } else if (!strcmp(cmd, "broker_rtt")) {
    NEED(3, "broker_rtt <id> <ms>");
    INT_ARG(id, 1);
    INT_ARG(ms, 2);
    reply_result(out, n, rd_kafka_mock_broker_set_rtt(mcluster, (int32_t)id, (int)ms));
  } else if (!strcmp(cmd, "broker_rack")) {
    NEED(3, "broker_rack <id> <rack>");
    INT_ARG(id, 1);
    reply_result(out, n, rd_kafka_mock_broker_set_rack(mcluster, (int32_t)id, argv[2]));
  } else if (!strcmp(cmd, "push_errors")) {
    if (argc < 3) {
      snprintf(out, n, "err usage: push_errors <apikey> <err>...");
      return;
    }
    INT_ARG(api, 1);
    rd_kafka_resp_err_t errs[MAX_ARGS];
    for (int i = 2; i < argc; i++) {
      ERR_ARG(e, argv[i]);
      errs[i - 2] = e;
    }
    rd_kafka_mock_push_request_errors_array(mcluster, (int16_t)api, (size_t)(argc - 2), errs);
    snprintf(out, n, "ok");
  } else if (!strcmp(cmd, "push_error_rtts")) {
    if (argc < 4) {
      snprintf(out, n, "err usage: push_error_rtts <broker> <apikey> <err>:<rtt_ms>...");
      return;
    }
    INT_ARG(broker, 1);
    INT_ARG(api, 2);
    for (int i = 3; i < argc; i++) {
      char *colon = strchr(argv[i], ':');
      long rtt = 0;
      if (colon) {
        *colon = '\0';
        if (parse_int(colon + 1, &rtt)) {
          snprintf(out, n, "err not a number: %s", colon + 1);
          return;
        }
      }
      ERR_ARG(e, argv[i]);
      /* Pushing one at a time appends in order, which avoids building a va_list. */
      rd_kafka_resp_err_t r = rd_kafka_mock_broker_push_request_error_rtts(
          mcluster, (int32_t)broker, (int16_t)api, 1, e, (int)rtt);
      if (r) {
        reply_err(out, n, r);
        return;
      }
    }
    snprintf(out, n, "ok");
  } else if (!strcmp(cmd, "clear_errors")) {
    NEED(2, "clear_errors <apikey>");
    INT_ARG(api, 1);
    rd_kafka_mock_clear_request_errors(mcluster, (int16_t)api);
    snprintf(out, n, "ok");
  } else if (!strcmp(cmd, "error_count")) {
    NEED(3, "error_count <broker> <apikey>");
    INT_ARG(broker, 1);
    INT_ARG(api, 2);
    size_t cnt = 0;
    rd_kafka_resp_err_t r =
        rd_kafka_mock_broker_error_stack_cnt(mcluster, (int32_t)broker, (int16_t)api, &cnt);
    if (r)
      reply_err(out, n, r);
    else
      snprintf(out, n, "ok %zu", cnt);
  } else if (!strcmp(cmd, "topic_create")) {
    NEED(4, "topic_create <topic> <partitions> <rf>");
    INT_ARG(parts, 2);
    INT_ARG(rf, 3);
    reply_result(out, n, rd_kafka_mock_topic_create(mcluster, argv[1], (int)parts, (int)rf));
  } else if (!strcmp(cmd, "topic_error")) {
    NEED(3, "topic_error <topic> <err>");
    ERR_ARG(e, argv[2]);
    rd_kafka_mock_topic_set_error(mcluster, argv[1], e);
    snprintf(out, n, "ok");
  } else if (!strcmp(cmd, "partition_leader") || !strcmp(cmd, "partition_follower")) {
    NEED(4, "partition_leader|partition_follower <topic> <partition> <broker>");
    INT_ARG(part, 2);
    INT_ARG(broker, 3);
    reply_result(out, n,
                 cmd[10] == 'l'
                     ? rd_kafka_mock_partition_set_leader(mcluster, argv[1], (int32_t)part,
                                                          (int32_t)broker)
                     : rd_kafka_mock_partition_set_follower(mcluster, argv[1], (int32_t)part,
                                                            (int32_t)broker));
  } else if (!strcmp(cmd, "coordinator")) {
    NEED(4, "coordinator <group|transaction> <key> <broker>");
    INT_ARG(broker, 3);
    reply_result(out, n, rd_kafka_mock_coordinator_set(mcluster, argv[1], argv[2], (int32_t)broker));
  } else if (!strcmp(cmd, "apiversion")) {
    NEED(4, "apiversion <apikey> <min> <max>");
    INT_ARG(api, 1);
    INT_ARG(min, 2);
    INT_ARG(max, 3);
    reply_result(out, n,
                 rd_kafka_mock_set_apiversion(mcluster, (int16_t)api, (int16_t)min, (int16_t)max));
  } else {
    snprintf(out, n, "err unknown command: %s", cmd);
  }
}

static void handle_line(int fd, char *line) {
  char *argv[MAX_ARGS];
  int argc = 0;
  char *save = NULL;
  for (char *tok = strtok_r(line, " \t\r", &save); tok && argc < MAX_ARGS;
       tok = strtok_r(NULL, " \t\r", &save))
    argv[argc++] = tok;
  if (argc == 0)
    return;

  char out[MAX_LINE];
  run_command(argc, argv, out, sizeof out - 1);
  size_t len = strlen(out);
  out[len++] = '\n';
  for (size_t off = 0; off < len;) {
    ssize_t w = send(fd, out + off, len - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    off += (size_t)w;
  }
}

/* Returns -1 when the client is gone. */
static int read_client(struct client *c) {
  ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
  if (r < 0 && errno == EINTR)
    return 0;
  if (r <= 0)
    return -1;
  c->len += (size_t)r;
  char *start = c->buf, *nl;
  while ((nl = memchr(start, '\n', c->len - (size_t)(start - c->buf)))) {
    *nl = '\0';
    handle_line(c->fd, start);
    start = nl + 1;
  }
  c->len -= (size_t)(start - c->buf);
  memmove(c->buf, start, c->len);
  if (c->len == sizeof c->buf)
    return -1; /* a line longer than the buffer is a broken client */
  return 0;
}

static int listen_control(int port, int *bound_port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    die("socket: %s", strerror(errno));
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0)
    die("bind control port %d: %s", port, strerror(errno));
  if (listen(s, 16) < 0)
    die("listen: %s", strerror(errno));
  socklen_t alen = sizeof addr;
  getsockname(s, (struct sockaddr *)&addr, &alen);
  *bound_port = ntohs(addr.sin_port);
  return s;
}

int main(int argc, char **argv) {
  long brokers = 3, control_port = 0;
  int die_with_parent = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
      if (parse_int(argv[++i], &brokers) || brokers < 1 || brokers > 64)
        die("--brokers wants 1..64");
    } else if (!strcmp(argv[i], "--control-port") && i + 1 < argc) {
      if (parse_int(argv[++i], &control_port) || control_port < 0 || control_port > 65535)
        die("--control-port wants 0..65535");
    } else if (!strcmp(argv[i], "--die-with-parent")) {
      die_with_parent = 1;
    } else {
      die("usage: souk-kafka-mock [--brokers N] [--control-port P] [--die-with-parent]");
    }
  }

  if (die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
      return 0;
  }
  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
    die("pipe: %s", strerror(errno));
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk)
    die("rd_kafka_new: %s", errstr);
  mcluster = rd_kafka_mock_cluster_new(rk, (int)brokers);
  if (!mcluster)
    die("could not create the mock cluster");

  int bound_port;
  int lfd = listen_control((int)control_port, &bound_port);
  printf("%s\ncontrol 127.0.0.1:%d\n", rd_kafka_mock_cluster_bootstraps(mcluster), bound_port);
  fflush(stdout);

  struct client clients[MAX_CLIENTS];
  int nclients = 0;
  for (;;) {
    struct pollfd pfds[MAX_CLIENTS + 2];
    pfds[0] = (struct pollfd){.fd = signal_pipe[0], .events = POLLIN};
    pfds[1] = (struct pollfd){.fd = lfd, .events = nclients < MAX_CLIENTS ? POLLIN : 0};
    for (int i = 0; i < nclients; i++)
      pfds[i + 2] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
    if (poll(pfds, (nfds_t)(nclients + 2), -1) < 0) {
      if (errno == EINTR)
        continue;
      die("poll: %s", strerror(errno));
    }
    if (pfds[0].revents)
      break;
    /* Walk backwards so removing a client does not skip the next one. */
    for (int i = nclients - 1; i >= 0; i--) {
      if (!pfds[i + 2].revents)
        continue;
      if (read_client(&clients[i]) < 0) {
        close(clients[i].fd);
        clients[i] = clients[--nclients];
      }
    }
    if (pfds[1].revents & POLLIN) {
      int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
      if (fd >= 0)
        clients[nclients++] = (struct client){.fd = fd, .len = 0};
    }
  }

  for (int i = 0; i < nclients; i++)
    close(clients[i].fd);
  close(lfd);
  /* rd_kafka_mock_cluster_destroy() waits out its thread's 1 s poll; the mock holds nothing that
   * outlives the process, so let the kernel close its sockets instead. */
  fflush(NULL);
  _exit(0);
}
