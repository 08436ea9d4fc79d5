/*
 * tstats_simd.h — the per-block kernels of the float32 statistics scan
 * (tstats_f32.c drives them): the moments of one block and the key counts
 * of its histogram, in a portable version and in AVX2 and AVX-512 versions
 * picked at run time.
 *
 * Every version computes the same bits.  The moments of a block are summed
 * in 32 float lanes (lane l takes elements l, l + 32, l + 64, ...: a
 * 16-lane machine holds them in two registers, an 8-lane one in four),
 * the lanes are added into double in one fixed order (lane 0 of the first
 * half, lane 0 of the second half, lane 1 of the first half, ...), and the
 * elements past the last whole 32 are added in double after them.  Counts
 * are integers and min/max do not depend on the order (NaN blocks are
 * redone by the caller), so nothing depends on the instruction set.
 */
#ifndef NT_TSTATS_SIMD_H
#define NT_TSTATS_SIMD_H

#include <stdbool.h>
#include <stdint.h>

/* Histogram keys: the top 11 bits of a float (sign, exponent, two mantissa
 * bits), which alone decide its bucket.  Four tables of KEYS counters each,
 * so that equal neighbours do not wait on each other's increments; table t
 * starts at t * NT_TSTATS_TABLE, 64 bytes more than KEYS counters, so that
 * the same key in two tables is not 8 KiB apart: the processor takes
 * addresses equal in their low 12 bits for one (4K aliasing), and the
 * increments of a ReLU's many +0s then waited on each other anyway
 * (0.50 -> 0.32 ns an element on half-zero data). */
#define NT_TSTATS_KEYS 2048
#define NT_TSTATS_TABLE (NT_TSTATS_KEYS + 16)

/* What one block gives.  min/max are over every element (NaN never chosen,
 * Inf taken); the sums are non-finite when the block holds NaN or Inf, and
 * the caller redoes such a block. */
typedef struct nt_block_moments {
    double sum, sumsq;
    float min, max;
    int64_t zeros, neg; /* v == 0, v < 0 */
} nt_block_moments;

typedef void (*nt_moments_fn)(const float *p, int64_t m, nt_block_moments *out);
/* Adds one count per element of p[0..m) to keys[t * TABLE + (bits >> 21)]
 * for some table t in 0..3. */
typedef void (*nt_keys_fn)(const float *p, int64_t m, uint32_t *keys);
/* Takes the counts of keys [from, to] (whole chunks of 16 around them, so
 * a few keys past either end may come too) out of the four tables,
 * clearing them: the nonzero ones as (key_out[i], count_out[i]) in key
 * order; returns how many. */
typedef int (*nt_take_fn)(uint32_t *keys, int from, int to, uint16_t *key_out, int64_t *count_out);

typedef enum nt_tstats_isa {
    NT_TSTATS_ISA_C,      /* portable C (vector extensions) */
    NT_TSTATS_ISA_AVX2,
    NT_TSTATS_ISA_AVX512
} nt_tstats_isa;

/* The kernels of the current level (detected once). */
nt_moments_fn nt_tstats_moments_fn(void);
nt_keys_fn nt_tstats_keys_fn(void);
nt_take_fn nt_tstats_take_fn(void);
/* Forces a level at most the machine's (tests); returns the previous one. */
nt_tstats_isa nt_tstats_isa_force(nt_tstats_isa isa);
nt_tstats_isa nt_tstats_isa_get(void);

#endif /* NT_TSTATS_SIMD_H */
