/*
 * crc32c.h — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum TFRecord framing uses, plus TFRecord's "masked" form.
 *
 * The hardware path (SSE4.2 crc32 instruction) is chosen at run time when the
 * CPU has it; otherwise a slicing-by-8 table path is used.  Both give the same
 * results; tests call each path directly.
 */
#ifndef NT_CRC32C_H
#define NT_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC-32C of n bytes (standard init/final xor with 0xFFFFFFFF):
 * nt_crc32c("123456789", 9) == 0xE3069283. */
uint32_t nt_crc32c(const void *data, size_t n);

/* Continues a CRC: nt_crc32c_extend(nt_crc32c(a, na), b, nb) equals the CRC
 * of a followed by b.  Start with crc = 0. */
uint32_t nt_crc32c_extend(uint32_t crc, const void *data, size_t n);

/* TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.  Masking
 * keeps a CRC stored inside data that is itself checksummed from being
 * trivially self-consistent. */
static inline uint32_t nt_crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static inline uint32_t nt_crc32c_unmask(uint32_t masked)
{
    uint32_t rot = masked - 0xa282ead8u;
    return (rot >> 17) | (rot << 15);
}

/* The two implementations, exposed for tests and benchmarks.  The hardware
 * one must only be called when nt_crc32c_hw_available() is true. */
uint32_t nt_crc32c_extend_sw(uint32_t crc, const void *data, size_t n);
uint32_t nt_crc32c_extend_hw(uint32_t crc, const void *data, size_t n);
bool nt_crc32c_hw_available(void);

#endif /* NT_CRC32C_H */
