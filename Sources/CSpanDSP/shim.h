#include <spandsp.h>

/// 1 when this spandsp was built fixed-point (Debian's armhf build): its
/// dtmf_rx_parms() threshold formula assumes floating point there, so a
/// custom threshold must not be passed to it.
static inline int atad_spandsp_is_fixed_point(void) {
#if defined(SPANDSP_USE_FIXED_POINT)
    return 1;
#else
    return 0;
#endif
}
