/*
 * The Unicode data the Embedded Swift standard library asks for, answered
 * without tables, for the firmware only (the host build for `swift test`
 * keeps the real ones). atad's strings are SIP tokens, config keys and
 * log text: it never needs two spellings of an accented letter to compare
 * equal, nor grapheme clusters beyond ASCII. So:
 *
 * - every scalar is already normalized (NFC and NFD quick checks "yes",
 *   combining class 0): String == and hashing compare scalars as they are;
 * - no scalar decomposes or composes (Hangul syllables still do: the
 *   standard library computes those itself);
 * - every scalar above ASCII breaks graphemes as "any", so a combining
 *   mark is a Character of its own.
 *
 * This drops libswiftUnicodeDataTables (about 37 KB of tables and lookup
 * code on amd64). The standard library declares these functions in
 * SwiftShims/UnicodeData.h with the C calling convention.
 */
#include <stdbool.h>
#include <stdint.h>

uint16_t _swift_stdlib_getNormData(uint32_t scalar) {
    (void)scalar;
    return 0;
}

/* Read only when a decomposition entry is found, which never happens. */
const uint8_t *const _swift_stdlib_nfd_decompositions = 0;

uint32_t _swift_stdlib_getDecompositionEntry(uint32_t scalar) {
    (void)scalar;
    return UINT32_MAX;
}

uint32_t _swift_stdlib_getComposition(uint32_t x, uint32_t y) {
    (void)x;
    (void)y;
    return UINT32_MAX;
}

/* 0xFF is the tables' "not listed": the property "any". */
uint8_t _swift_stdlib_getGraphemeBreakProperty(uint32_t scalar) {
    (void)scalar;
    return 0xFF;
}

bool _swift_stdlib_isExtendedPictographic(uint32_t scalar) {
    (void)scalar;
    return false;
}

bool _swift_stdlib_isInCB_Consonant(uint32_t scalar) {
    (void)scalar;
    return false;
}
