#ifndef ATAD_ALLOCATION_COUNTER_H
#define ATAD_ALLOCATION_COUNTER_H

/// Test support: the test executable's own malloc family, which forwards to
/// glibc and counts the calls made on the calling thread while counting is on.
/// Lets a test prove that a code path allocates nothing.

/// Starts counting on this thread from zero.
void atad_allocations_begin(void);
/// Stops counting on this thread and returns how many allocations
/// (malloc, calloc, realloc, posix_memalign, aligned_alloc) it saw.
unsigned long atad_allocations_end(void);

#endif
