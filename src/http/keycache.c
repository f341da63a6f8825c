/*
 * keycache - verified API keys kept in memory, so an authenticated request
 * costs one SHA-256 and a table probe instead of an api_keys query.
 *
 * Description: a direct-mapped table of API_KEYCACHE_SLOTS entries indexed
 * by the key's SHA-256 (a collision simply replaces the older entry, so the
 * table never grows). An entry is trusted for API_KEYCACHE_TTL_MS, then the
 * store is asked again: that bounds how long a key deleted elsewhere (another
 * node, a future offline command) keeps working. A key deleted through this
 * process's API is dropped at once by http__keycache_forget, once the delete
 * has committed and before its 200 goes out. A generation counter closes the
 * race with a lookup that read the key before the delete committed: it may
 * only insert when no forget happened since it started
 * (http__keycache_generation).
 * Only digests of keys the store knows are cached, so unknown keys cannot
 * evict anything but by colliding, which needs a SHA-256 preimage search.
 * Threading: MHD threads (lookups and the forget of a delete); one mutex.
 * Ownership: the api owns the table; lookups copy the key out.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

struct slot {
    bool used;
    uint8_t digest[32];
    int64_t verified_mono_ms;
    struct store_api_key key;
};

struct api_keycache {
    pthread_mutex_t mu;
    uint64_t generation;
    struct slot slots[API_KEYCACHE_SLOTS];
};

struct api_keycache *http__keycache_new(void)
{
    struct api_keycache *kc = calloc(1, sizeof(*kc));
    if (!kc)
        abort();
    pthread_mutex_init(&kc->mu, NULL);
    return kc;
}

void http__keycache_free(struct api_keycache *kc)
{
    if (!kc)
        return;
    pthread_mutex_destroy(&kc->mu);
    explicit_bzero(kc->slots, sizeof(kc->slots));
    free(kc);
}

static struct slot *slot_of(struct api_keycache *kc, const uint8_t digest[32])
{
    uint32_t h;
    memcpy(&h, digest, sizeof(h)); /* SHA-256 output is uniform: any 4 bytes do */
    return &kc->slots[h % API_KEYCACHE_SLOTS];
}

bool http__keycache_get(struct api_keycache *kc, const uint8_t digest[32], int64_t now_mono_ms,
                        struct store_api_key *out)
{
    bool hit = false;
    pthread_mutex_lock(&kc->mu);
    struct slot *s = slot_of(kc, digest);
    if (s->used && memcmp(s->digest, digest, 32) == 0 &&
        now_mono_ms - s->verified_mono_ms < API_KEYCACHE_TTL_MS) {
        *out = s->key;
        hit = true;
    }
    pthread_mutex_unlock(&kc->mu);
    return hit;
}

uint64_t http__keycache_generation(struct api_keycache *kc)
{
    return __atomic_load_n(&kc->generation, __ATOMIC_SEQ_CST);
}

void http__keycache_put(struct api_keycache *kc, const uint8_t digest[32],
                        const struct store_api_key *key, uint64_t generation, int64_t now_mono_ms)
{
    pthread_mutex_lock(&kc->mu);
    if (kc->generation == generation) {
        struct slot *s = slot_of(kc, digest);
        s->used = true;
        memcpy(s->digest, digest, 32);
        s->verified_mono_ms = now_mono_ms;
        s->key = *key;
    }
    pthread_mutex_unlock(&kc->mu);
}

void http__keycache_forget(struct api_keycache *kc, const char *key_id)
{
    pthread_mutex_lock(&kc->mu);
    __atomic_add_fetch(&kc->generation, 1, __ATOMIC_SEQ_CST);
    for (size_t i = 0; i < API_KEYCACHE_SLOTS; i++)
        if (kc->slots[i].used && !strcmp(kc->slots[i].key.id, key_id))
            memset(&kc->slots[i], 0, sizeof(kc->slots[i]));
    pthread_mutex_unlock(&kc->mu);
}
