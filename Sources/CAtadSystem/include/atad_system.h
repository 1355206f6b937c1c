// The POSIX surface atad uses, plus small helpers for what Swift cannot call
// directly: errno, variadic functions (open, fcntl, ioctl, syslog) and the
// process arguments (Embedded Swift has no CommandLine).
#ifndef ATAD_SYSTEM_H
#define ATAD_SYSTEM_H

#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static inline int atad_errno(void) { return errno; }
static inline void atad_set_errno(int value) { errno = value; }

/// open(2) without the variadic mode argument.
int atad_open(const char *path, int flags, unsigned int mode);
/// Sets or clears O_NONBLOCK; returns 0 or -1 with errno set.
int atad_set_nonblocking(int fd, int enabled);
/// Sets FD_CLOEXEC; returns 0 or -1 with errno set.
int atad_set_cloexec(int fd);
/// syslog(3) with a fixed "%s" format, so messages are never format strings.
void atad_syslog(int priority, const char *message);

/// The process arguments, captured before main runs.
int atad_argc(void);
char *const *atad_argv(void);

/// Blocks the given signals for the calling thread and returns a signalfd
/// that reports them (non-blocking, close-on-exec), or -1 with errno set.
int atad_signalfd_open(const int *signals, int count);
/// Reads one pending signal from a signalfd: its number, 0 when none is
/// pending, or -1 with errno set.
int atad_signalfd_read(int fd);
/// Ignores SIGPIPE so a vanished peer is an EPIPE, not a dead daemon.
void atad_ignore_sigpipe(void);

/// accept4(2) with close-on-exec and non-blocking set on the new socket.
int atad_accept(int listener);

/// Fills a sockaddr_un; returns its length, or -1 when the path is too long.
int atad_sockaddr_un(struct sockaddr_un *address, const char *path);

/// Sends one datagram to the service manager's notification socket (a path,
/// or an abstract name starting with '@'). Returns 0 or -1 with errno set.
int atad_notify_send(const char *socket_path, const char *message);

/// Fills `buffer` with `length` random bytes from the kernel (getrandom).
/// Returns 0, or -1 with errno set.
int atad_random_bytes(void *buffer, size_t length);

/// Resolves `host` (a name or an IP literal) to its first address of the
/// given family preference (AF_UNSPEC for any), writing a sockaddr with
/// `port` into `address`. Blocking: used at start-up and on retries only.
/// Returns the address length, or a negative getaddrinfo error code.
int atad_resolve(const char *host, unsigned short port, int family,
                 struct sockaddr_storage *address);

/// The text of a getaddrinfo error code.
const char *atad_resolve_error(int code);

/// The local address the kernel would use to reach `remote` (a UDP
/// "connect" that sends nothing). Returns its length or -1 with errno set.
int atad_local_address_toward(const struct sockaddr_storage *remote, int remote_length,
                              struct sockaddr_storage *local);

/// CLOCK_MONOTONIC in nanoseconds.
int64_t atad_monotonic_ns(void);
/// The wall clock in the local time zone (TZ, /etc/localtime), for caller
/// ID's date field; -1 when it cannot be read.
int atad_local_time(int *month, int *day, int *hour, int *minute);

#endif
