/*
 * id - identifiers and secrets; see id.h for the contract.
 *
 * Random bytes come from getrandom(2) on the kernel CSPRNG; a failure there
 * (other than EINTR) means the system is broken, so we panic rather than
 * hand out predictable ids. Public ids (message, attempt and request ids,
 * ep_/sk_/key_ ids) draw from a per-thread pool of ID_POOL_BYTES kernel
 * bytes, so a send costs no getrandom syscall of its own: each byte is
 * handed out once and wiped from the pool as it goes. A fork(2) child
 * drops the pool it inherited (pthread_atfork), so parent and child never
 * share bytes. Secrets (whsec_ keys, API keys) bypass the pool and read the
 * kernel directly, so no secret byte ever waits in memory. Temporary
 * buffers that held secret bytes are wiped with explicit_bzero.
 * SPDX-License-Identifier: MIT
 */
#include "core/id.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/log.h"

#define ID_POOL_BYTES 512

static const char hex_digits[] = "0123456789abcdef";

void id_os_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            PANIC("getrandom failed: %s", strerror(errno));
        }
        p += (size_t)got;
        n -= (size_t)got;
    }
}

static unsigned long os_reads; /* pool refills, for tests (id_pool_refills) */
static unsigned fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    fork_generation++; /* only the forking thread exists now: no race */
}

static void register_atfork(void)
{
    if (pthread_atfork(NULL, NULL, on_fork_child) != 0)
        PANIC("pthread_atfork failed");
}

static _Thread_local struct {
    unsigned char bytes[ID_POOL_BYTES];
    size_t used; /* bytes[used..] are not handed out yet */
    unsigned generation;
    bool filled;
} pool;

void id_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    if (!pool.filled)
        pthread_once(&atfork_once, register_atfork);
    while (n > 0) {
        if (!pool.filled || pool.used == sizeof(pool.bytes) || pool.generation != fork_generation) {
            id_os_random(pool.bytes, sizeof(pool.bytes));
            __atomic_add_fetch(&os_reads, 1, __ATOMIC_RELAXED);
            pool.used = 0;
            pool.generation = fork_generation;
            pool.filled = true;
        }
        size_t k = sizeof(pool.bytes) - pool.used;
        if (k > n)
            k = n;
        memcpy(p, pool.bytes + pool.used, k);
        explicit_bzero(pool.bytes + pool.used, k);
        pool.used += k;
        p += k;
        n -= k;
    }
}

unsigned long id_pool_refills(void)
{
    return __atomic_load_n(&os_reads, __ATOMIC_RELAXED);
}

/* Hex-encode n bytes into out (room for 2n + 1), NUL-terminated. */
static void hex_encode(char *out, const unsigned char *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * Monotonic within a millisecond (RFC 9562 §6.2, method 1): the 12-bit
 * rand_a field is a counter that starts at a random value below 2048 on each
 * new millisecond and counts up for further ids in the same millisecond, so
 * ids made one after the other in this process sort in creation order (logs,
 * cursors and attempt lists rely on it). Ids for an earlier millisecond than
 * the last one (back-dated ids, clock steps) are plain random and leave the
 * state alone. XXX: past 4096 ids in one millisecond the order is random.
 */
static pthread_mutex_t uuid7_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t uuid7_last_ms = -1;
static unsigned uuid7_counter;

static unsigned next_counter(int64_t unix_ms, unsigned random12)
{
    pthread_mutex_lock(&uuid7_mu);
    unsigned c = random12;
    if (unix_ms > uuid7_last_ms) {
        uuid7_last_ms = unix_ms;
        uuid7_counter = c = random12 & 0x7ff;
    } else if (unix_ms == uuid7_last_ms && uuid7_counter < 0xfff) {
        c = ++uuid7_counter;
    }
    pthread_mutex_unlock(&uuid7_mu);
    return c;
}

void id_uuid7(char *out, int64_t unix_ms)
{
    unsigned char b[16];
    uint64_t ms = (uint64_t)unix_ms & 0xffffffffffffULL; /* 48-bit field (RFC 9562 §5.7) */

    id_random(b + 6, 10);
    unsigned counter = next_counter(unix_ms, ((unsigned)(b[6] & 0x0f) << 8) | b[7]);
    b[6] = (unsigned char)(counter >> 8);
    b[7] = (unsigned char)(counter & 0xff);
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f)); /* version 7 */
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f)); /* variant 10 */

    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex_digits[b[i] >> 4];
        out[o++] = hex_digits[b[i] & 0x0f];
    }
    out[o] = '\0';
}

int64_t id_uuid7_time_ms(const char *id)
{
    if (!id_is_uuid(id))
        return -1;
    int64_t ms = 0;
    for (int i = 0; i < 13; i++) { /* 8 hex digits, '-', 4 hex digits: the 48-bit time */
        if (i == 8)
            continue;
        char c = id[i];
        ms = ms * 16 + (c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return ms;
}

bool id_is_uuid(const char *s)
{
    if (!s)
        return false;
    for (int i = 0; i < ID_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_lower_hex(s[i])) {
            return false; /* also stops at an early NUL */
        }
    }
    return s[ID_UUID_LEN] == '\0';
}

/* id_prefixed_hex with the random bytes from fill. */
static void prefixed_hex(char *out, size_t outlen, const char *prefix, size_t hex_chars,
                         void (*fill)(void *, size_t))
{
    size_t plen = strlen(prefix);
    if (plen + hex_chars + 1 > outlen || hex_chars > 2 * ID_MAX)
        PANIC("id buffer too small for prefix '%s' and %zu hex chars", prefix, hex_chars);

    unsigned char rnd[ID_MAX];
    char hex[2 * ID_MAX + 1];
    size_t nbytes = (hex_chars + 1) / 2;
    fill(rnd, nbytes);
    hex_encode(hex, rnd, nbytes);
    memcpy(out, prefix, plen);
    memcpy(out + plen, hex, hex_chars);
    out[plen + hex_chars] = '\0';
    explicit_bzero(rnd, sizeof(rnd));
    explicit_bzero(hex, sizeof(hex));
}

void id_prefixed_hex(char *out, size_t outlen, const char *prefix, size_t hex_chars)
{
    prefixed_hex(out, outlen, prefix, hex_chars, id_random);
}

void id_time_ordered(char *out, size_t outlen, const char *prefix, int64_t unix_ms)
{
    static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";
    unsigned char rnd[10];
    id_random(rnd, sizeof(rnd));
    /* the 128 bits as hi:lo: 48 bits of time, then 80 random bits */
    uint64_t hi = ((uint64_t)(unix_ms < 0 ? 0 : unix_ms) & 0xffffffffffffULL) << 16 |
                  (uint64_t)rnd[0] << 8 | rnd[1];
    uint64_t lo = 0;
    for (int i = 2; i < 10; i++)
        lo = lo << 8 | rnd[i];
    char enc[27];
    for (int c = 0; c < 26; c++) { /* character c holds bits [5c - 2, 5c + 3) of the 128 */
        int shift = 125 - 5 * c;   /* from the low end: where its last bit is */
        uint64_t v = shift >= 64  ? hi >> (shift - 64)
                     : shift == 0 ? lo
                                  : lo >> shift | hi << (64 - shift);
        enc[c] = b32[v & 31];
    }
    enc[26] = '\0';
    size_t n = strlen(prefix);
    if (n + sizeof(enc) > outlen) { /* as snprintf would: cut, still terminated */
        snprintf(out, outlen, "%s%s", prefix, enc);
        return;
    }
    memcpy(out, prefix, n);
    memcpy(out + n, enc, sizeof(enc));
}

bool id_is_endpoint(const char *s)
{
    if (!s || strncmp(s, "ep_", 3) != 0)
        return false;
    for (int i = 3; i < 3 + 32; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return s[3 + 32] == '\0';
}

void id_signing_secret(char *out, size_t outlen)
{
    unsigned char key[24];
    unsigned char b64[40]; /* 4 * 24 / 3 = 32 chars + NUL */

    if (outlen < 6 + 32 + 1)
        PANIC("signing secret buffer too small (%zu bytes)", outlen);
    id_os_random(key, sizeof(key));
    int n = EVP_EncodeBlock(b64, key, (int)sizeof(key));
    if (n != 32)
        PANIC("EVP_EncodeBlock returned %d", n);
    memcpy(out, "whsec_", 6);
    memcpy(out + 6, b64, 33);
    explicit_bzero(key, sizeof(key));
    explicit_bzero(b64, sizeof(b64));
}

void id_api_key(char *out, size_t outlen, const char *mode)
{
    if (strcmp(mode, "live") != 0 && strcmp(mode, "test") != 0)
        PANIC("unknown api key mode '%s'", mode);
    char prefix[16];
    memcpy(prefix, "hk_", 3);
    memcpy(prefix + 3, mode, 4);
    memcpy(prefix + 7, "_", 2);
    prefixed_hex(out, outlen, prefix, 40, id_os_random);
}
