/*
 * sha256.h — SHA-256 (FIPS 180-4), for the model digest in run.json.
 */
#ifndef NT_SHA256_H
#define NT_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct nt_sha256 {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
    size_t used;
} nt_sha256;

void nt_sha256_init(nt_sha256 *c);
void nt_sha256_update(nt_sha256 *c, const void *data, size_t len);
/* Writes the digest as 64 lowercase hex digits plus NUL into hex[65]. */
void nt_sha256_final_hex(nt_sha256 *c, char hex[65]);
/* Digest of a whole file; returns 0 on success, -1 if it cannot be read. */
int nt_sha256_file(const char *path, char hex[65]);

#endif /* NT_SHA256_H */
