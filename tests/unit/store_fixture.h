/* store_fixture.h - fixture helpers shared by the store unit tests (test_store*.c):
 * a fresh temp directory per test or group, opening a store in it, and inserting an
 * endpoint with its first signing key. Everything is static inline so a test file that
 * does not use a helper gets no unused-function warning. The header includes what it
 * needs itself (cmocka and its prerequisites, store/store.h). */
#ifndef HOOKD_TESTS_UNIT_STORE_FIXTURE_H
#define HOOKD_TESTS_UNIT_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "store/store.h"

/* The signing secret most store tests give their endpoints. */
#define FIXTURE_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* Creates /tmp/hookd-test-<name>-XXXXXX into dir (len bytes). 0 on success, -1 on failure,
 * so a cmocka setup function can return it directly. */
static inline int fixture_setup_dir(char *dir, size_t len, const char *name)
{
    snprintf(dir, len, "/tmp/hookd-test-%s-XXXXXX", name);
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes dir and everything in it. 0 on success, -1 on failure (for a cmocka teardown). */
static inline int fixture_remove_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The encryption key of secrets at rest the store tests use (store_secrets_set_key). */
static const uint8_t FIXTURE_KEY[STORE_SECRET_KEY_LEN] = {
    0x6b, 0x65, 0x79, 0x20, 0x6f, 0x66, 0x20, 0x74, 0x68, 0x65, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65,
    0x20, 0x74, 0x65, 0x73, 0x74, 0x73, 0x20, 0x28, 0x33, 0x32, 0x20, 0x62, 0x79, 0x74, 0x65, 0x29};

/* Opens (creating if needed) the store in dir with FIXTURE_KEY as the process key;
 * fails the test if it cannot. */
static inline struct store *fixture_open_store(const char *dir)
{
    assert_int_equal(store_secrets_set_key(FIXTURE_KEY), ERR_OK);
    struct store *s = NULL;
    struct err_detail d = {0};
    assert_int_equal(store_open(&s, dir, true, &d), ERR_OK);
    return s;
}

/* Inserts endpoint id (mode, url, HMAC on, created/updated at 1000) with its first signing
 * key "sk_<id>" holding secret, created at key_created_at_ms; fails the test if it cannot. */
static inline void fixture_make_endpoint(struct store *s, const char *id, const char *mode,
                                         const char *url, const char *secret,
                                         int64_t key_created_at_ms)
{
    struct store_endpoint e = {0};
    snprintf(e.id, sizeof(e.id), "%s", id);
    snprintf(e.mode, sizeof(e.mode), "%s", mode);
    e.url = (char *)url;
    e.hmac_enabled = true;
    e.created_at_ms = e.updated_at_ms = 1000;
    struct store_signing_key k = {0};
    snprintf(k.id, sizeof(k.id), "sk_%s", id);
    snprintf(k.secret, sizeof(k.secret), "%s", secret);
    k.created_at_ms = key_created_at_ms;
    struct err_detail d = {0};
    assert_int_equal(store_endpoint_insert(s, &e, &k, &d), ERR_OK);
}

#endif
