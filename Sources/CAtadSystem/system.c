#define _GNU_SOURCE
#include "atad_system.h"
#include <sys/random.h>

static int saved_argc;
static char *const *saved_argv;

// glibc calls .init_array entries with (argc, argv, envp); that is how the
// Embedded firmware, which has no CommandLine, learns its arguments.
static void capture_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}
__attribute__((section(".init_array"), used))
static void (*const capture_arguments_entry)(int, char **, char **) = capture_arguments;

int atad_argc(void) { return saved_argc; }
char *const *atad_argv(void) { return saved_argv; }

int atad_open(const char *path, int flags, unsigned int mode) {
    return open(path, flags | O_CLOEXEC, (mode_t)mode);
}

int atad_set_nonblocking(int fd, int enabled) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    flags = enabled ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags);
}

int atad_set_cloexec(int fd) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

void atad_syslog(int priority, const char *message) {
    syslog(priority, "%s", message);
}

int atad_signalfd_open(const int *signals, int count) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int i = 0; i < count; i++) sigaddset(&mask, signals[i]);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) return -1;
    return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

int atad_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n == (ssize_t)sizeof info) return (int)info.ssi_signo;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n >= 0) { errno = EIO; }
    return -1;
}

void atad_ignore_sigpipe(void) {
    signal(SIGPIPE, SIG_IGN);
}

int atad_sockaddr_un(struct sockaddr_un *address, const char *path) {
    size_t length = strlen(path);
    memset(address, 0, sizeof *address);
    if (length == 0 || length >= sizeof address->sun_path) return -1;
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path, path, length);
    return (int)(offsetof(struct sockaddr_un, sun_path) + length + 1);
}

int64_t atad_monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + (int64_t)now.tv_nsec;
}

int atad_local_time(int *month, int *day, int *hour, int *minute) {
    struct timespec now;
    struct tm local;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0 || localtime_r(&now.tv_sec, &local) == NULL) return -1;
    *month = local.tm_mon + 1;
    *day = local.tm_mday;
    *hour = local.tm_hour;
    *minute = local.tm_min;
    return 0;
}

int atad_accept(int listener) {
    return accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

int atad_notify_send(const char *socket_path, const char *message) {
    struct sockaddr_un address;
    size_t length = strlen(socket_path);
    if (length == 0 || length >= sizeof address.sun_path) { errno = EINVAL; return -1; }
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, socket_path, length);
    if (address.sun_path[0] == '@') address.sun_path[0] = 0;  // abstract namespace
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    ssize_t sent = sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&address, size);
    int saved = errno;
    close(fd);
    errno = saved;
    return sent < 0 ? -1 : 0;
}

int atad_random_bytes(void *buffer, size_t length) {
    unsigned char *out = buffer;
    while (length > 0) {
        ssize_t n = getrandom(out, length, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        out += n;
        length -= (size_t)n;
    }
    return 0;
}

int atad_resolve(const char *host, unsigned short port, int family,
                 struct sockaddr_storage *address) {
    struct addrinfo hints, *result = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int status = getaddrinfo(host, NULL, &hints, &result);
    if (status != 0) return status < 0 ? status : -status;
    if (result == NULL) return EAI_NONAME;
    int length = (int)result->ai_addrlen;
    memcpy(address, result->ai_addr, (size_t)length);
    if (result->ai_family == AF_INET) ((struct sockaddr_in *)address)->sin_port = htons(port);
    else ((struct sockaddr_in6 *)address)->sin6_port = htons(port);
    freeaddrinfo(result);
    return length;
}

const char *atad_resolve_error(int code) {
    return gai_strerror(code);
}

int atad_local_address_toward(const struct sockaddr_storage *remote, int remote_length,
                              struct sockaddr_storage *local) {
    int fd = socket(remote->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (const struct sockaddr *)remote, (socklen_t)remote_length) != 0) {
        int saved = errno; close(fd); errno = saved; return -1;
    }
    socklen_t length = sizeof *local;
    int status = getsockname(fd, (struct sockaddr *)local, &length);
    int saved = errno;
    close(fd);
    errno = saved;
    return status == 0 ? (int)length : -1;
}
