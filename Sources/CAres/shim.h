// c-ares: asynchronous DNS (NAPTR, SRV, A/AAAA) driven from our poll loop.
#include <ares.h>
#include <sys/socket.h>
