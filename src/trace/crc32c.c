/*
 * crc32c.c — CRC-32C for TFRecord framing (see crc32c.h).
 *
 * Two paths computing the same function:
 *   - hardware: the SSE4.2 crc32 instruction, 8 bytes per step, compiled
 *     with a target attribute so the rest of the library does not need
 *     -msse4.2, and selected at run time with __builtin_cpu_supports;
 *   - software: slicing-by-8 over eight 256-entry tables built once (under
 *     pthread_once) from the reflected polynomial 0x82F63B78.
 * The event writer checksums every record twice (length and payload), so at
 * a million records a second this is on the hot path.
 */
#include "trace/crc32c.h"

#include <pthread.h>
#include <string.h>

#define NT_CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static int crc_use_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* Builds the slicing tables: table[0] is the classic byte-at-a-time table,
 * table[k][b] is the CRC of byte b followed by k zero bytes. */
static void crc_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1) ? NT_CRC32C_POLY : 0);
        crc_table[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; b++)
        for (int k = 1; k < 8; k++)
            crc_table[k][b] = (crc_table[k - 1][b] >> 8) ^ crc_table[0][crc_table[k - 1][b] & 0xff];
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    crc_use_hw = __builtin_cpu_supports("sse4.2");
#else
    crc_use_hw = 0;
#endif
}

bool nt_crc32c_hw_available(void)
{
    pthread_once(&crc_once, crc_init);
    return crc_use_hw != 0;
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

uint32_t nt_crc32c_extend_sw(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (n >= 8) {
        uint64_t v = load_le64(p) ^ c;
        c = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^ crc_table[5][(v >> 16) & 0xff] ^
            crc_table[4][(v >> 24) & 0xff] ^ crc_table[3][(v >> 32) & 0xff] ^
            crc_table[2][(v >> 40) & 0xff] ^ crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
    return ~c;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.2"))) uint32_t nt_crc32c_extend_hw(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = data;
    uint64_t c = (uint32_t)~crc;
    while (n >= 8) {
        c = __builtin_ia32_crc32di(c, load_le64(p));
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}
#else
uint32_t nt_crc32c_extend_hw(uint32_t crc, const void *data, size_t n)
{
    return nt_crc32c_extend_sw(crc, data, n);
}
#endif

uint32_t nt_crc32c_extend(uint32_t crc, const void *data, size_t n)
{
    if (nt_crc32c_hw_available())
        return nt_crc32c_extend_hw(crc, data, n);
    return nt_crc32c_extend_sw(crc, data, n);
}

uint32_t nt_crc32c(const void *data, size_t n) { return nt_crc32c_extend(0, data, n); }
