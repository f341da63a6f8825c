/*
 * test_signature_scheme - the per-scheme key material, the Bridge PKI
 * signature (the published vector of POLICIES.md §4, and independent EVP
 * checks that only the double-hash PKCS#1 v1.5 form is accepted) and the
 * delivery header lists (names, prefix, svix-*, rotation, errors).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/signature.h"
#include "core/signature_scheme.h"

/* Standard Webhooks vectors (API.md §8). */
#define A_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define A_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define A_TS 1614265330
#define A_BODY "{\"test\": 2432232314}"
#define A_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define B_SECRET "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
#define C_SK                                                                                       \
    "6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="
#define C_PK "1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
#define C_SIG                                                                                      \
    "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="

/* Bridge's published vector (POLICIES.md §4). */
#define BRIDGE_PUB                                                                                 \
    "-----BEGIN PUBLIC KEY-----\n"                                                                 \
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtqsEE4eI7EmzhcquGJXt\n"                           \
    "LX9PMK0UH6Kl1WIR21sv8HtueG8BuvvpP3MiN7ltzmIhS8KaynCjN4l+620PnXeu\n"                           \
    "xWG+CSnEdkinL9hCqbEid5vv9zl0j9LWiJx3FkKHqADU7cgm46aa8dKUdIQYF2X+\n"                           \
    "O7WmyLkC4wUM/mWhBPMsIQBznashRMZxx7XJjsVp27ACUE4eNIjEXbVYN6U8jSbU\n"                           \
    "hG++CfL8xXu+GHDqKmFE6Po6HnuURvLFVnCtE3mXXBcVFlPy+octfx8nOMLT3X8O\n"                           \
    "9UehIigJ34o2yMm/Fq3HUJzg2BsiAiGgtr0vmeoV9Q7upSNj9TuOumAzZFi4pYA+\n"                           \
    "qwIDAQAB\n"                                                                                   \
    "-----END PUBLIC KEY-----\n"
#define BRIDGE_BODY "{\"message\":\"Hello World!\"}"
#define BRIDGE_T 1705854411204LL
#define BRIDGE_SIG_B64                                                                             \
    "jz/0dmHJ63FAzacGutrDTEoq+iSz/PHm/ugdooXDQu5NwuVIT2LmZGjsnCsBHgR9Py6OBP9zurzW4dHgygU4EDqmMPTU" \
    "OvhvndYb4lWt+TY66LihaFI2whL6DAf/jb1QjYjNU0A6x9SLzC45dgE6X7zTDUM+2Z+scG/WEQf6SxQMt4E2sEipl5P"  \
    "qMK5lYUe3otdJV+X2c9D64bGwCEE7QSia+Vhozg8QNOQEk/rdz2IEONIg6oC43CeiN4E2kF9XLAGuy9uAHx9O9OJH5Z"  \
    "PLJZjyo4VcXYeWQgxaQ1gZ1Qu6hEEzgiPSff/1nou58dm4bIIazgCWli/mO0NyGcpfFw=="
#define BRIDGE_HEADER "t=1705854411204,v0=" BRIDGE_SIG_B64

/* Two RSA key pairs and one Ed25519 pair, generated once for the whole run (RSA is slow). */
static char rsa1_priv[SIGNATURE_RSA_PRIVATE_MAX], rsa1_pub[SIGNATURE_RSA_PUBLIC_MAX];
static char rsa2_priv[SIGNATURE_RSA_PRIVATE_MAX], rsa2_pub[SIGNATURE_RSA_PUBLIC_MAX];
static char ed_sk[SIGNATURE_ED25519_SECRET_MAX], ed_pk[SIGNATURE_ED25519_PUBLIC_MAX];

static int setup_keys(void **state)
{
    (void)state;
    if (signature_rsa_generate(rsa1_priv, sizeof(rsa1_priv), rsa1_pub, sizeof(rsa1_pub)) !=
            ERR_OK ||
        signature_rsa_generate(rsa2_priv, sizeof(rsa2_priv), rsa2_pub, sizeof(rsa2_pub)) !=
            ERR_OK ||
        signature_ed25519_generate(ed_sk, sizeof(ed_sk), ed_pk, sizeof(ed_pk)) != ERR_OK)
        return -1;
    return 0;
}

/* ---- independent OpenSSL helpers (not the code under test) ---- */

static EVP_PKEY *pem_public(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(k);
    return k;
}

static EVP_PKEY *pem_private(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(k);
    return k;
}

static void sha256(unsigned char d[32], const char *s)
{
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(s, strlen(s), d, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
}

static bool raw_verify(EVP_PKEY *pub, int padding, const unsigned char *sig, size_t sig_len,
                       const void *data, size_t len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pub) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(pctx, padding) > 0 &&
              EVP_DigestVerify(md, sig, sig_len, data, len) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

static size_t raw_sign(EVP_PKEY *priv, int padding, unsigned char *sig, size_t cap,
                       const void *data, size_t len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t sig_len = cap;
    assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, priv), 1);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, padding) > 0);
    assert_int_equal(EVP_DigestSign(md, sig, &sig_len, data, len), 1);
    EVP_MD_CTX_free(md);
    return sig_len;
}

static size_t b64_decode(unsigned char *out, const char *in)
{
    size_t len = strlen(in), pad = 0;
    if (len >= 1 && in[len - 1] == '=')
        pad++;
    if (len >= 2 && in[len - 2] == '=')
        pad++;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    assert_true(n >= 0);
    return (size_t)n - pad;
}

/* "t=<t>,v0=<base64 sig>" */
static void bridge_header(char *out, size_t cap, long long t, const unsigned char *sig,
                          size_t sig_len)
{
    int n = snprintf(out, cap, "t=%lld,v0=", t);
    assert_true(n > 0 && (size_t)n + (sig_len + 2) / 3 * 4 + 1 <= cap);
    EVP_EncodeBlock((unsigned char *)out + n, sig, (int)sig_len);
}

static void hookbridge_hex(char out[72], const char *secret, const char *signed_str)
{
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)signed_str,
         strlen(signed_str), mac, &len);
    strcpy(out, "sha256=");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}

/* ---- scheme names and header prefixes ---- */

static void test_scheme_names(void **state)
{
    (void)state;
    static const char *const names[] = {"standard", "ed25519", "bridge-rsa", "none"};
    for (int i = 0; i < 4; i++) {
        enum signature_scheme s = SIGNATURE_SCHEME_NONE;
        assert_int_equal(signature_scheme_parse(&s, names[i], "signature_scheme", NULL), ERR_OK);
        assert_int_equal(s, i);
        assert_string_equal(signature_scheme_name(s), names[i]);
    }
    assert_int_equal(SIGNATURE_SCHEME_DEFAULT, SIGNATURE_SCHEME_STANDARD);
    assert_string_equal(signature_scheme_name((enum signature_scheme)42), "?");

    static const char *const bad[] = {"", "Standard", "rsa", "bridge_rsa", "none "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err_detail d = {0};
        enum signature_scheme s = SIGNATURE_SCHEME_ED25519;
        assert_int_equal(signature_scheme_parse(&s, bad[i], "signature_scheme", &d), ERR_INVAL);
        assert_int_equal(s, SIGNATURE_SCHEME_ED25519); /* untouched */
        assert_string_equal(d.field, "signature_scheme");
        assert_string_equal(d.code, "INVALID_REQUEST");
        assert_non_null(strstr(d.msg, "bridge-rsa"));
    }
    struct err_detail d = {0};
    enum signature_scheme s;
    assert_int_equal(signature_scheme_parse(&s, NULL, "scheme", &d), ERR_INVAL);
    assert_string_equal(d.field, "scheme");
}

static void test_prefix_check(void **state)
{
    (void)state;
    static const char *const good[] = {"X-Acme-",
                                       "X-",
                                       "x-webhook-",
                                       "Acme-Hooks-",
                                       "A.b_c~1-",
                                       "X-Webhook-",
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234-"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(signature_scheme_check_prefix(good[i], "header_prefix", NULL), ERR_OK);

    static const struct {
        const char *prefix, *msg_part;
    } bad[] = {
        {"", "2 to 32"},
        {"-", "2 to 32"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345-", "2 to 32"}, /* 33 */
        {"X-Acme", "end with '-'"},
        {"X Acme-", "only letters"},
        {"X:Acme-", "only letters"},
        {"X-Acme-\r\n", "only letters"},
        {"X-\xc3\xa9-", "only letters"},
        {"X(Acme)-", "only letters"},
        {"webhook-", "Standard Webhooks"},
        {"Webhook-", "Standard Webhooks"},
        {"SVIX-", "Standard Webhooks"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err_detail d = {0};
        assert_int_equal(signature_scheme_check_prefix(bad[i].prefix, "--header-prefix", &d),
                         ERR_INVAL);
        assert_string_equal(d.field, "--header-prefix");
        assert_string_equal(d.code, "INVALID_REQUEST");
        if (!strstr(d.msg, bad[i].msg_part))
            fail_msg("prefix %zu: message \"%s\" lacks \"%s\"", i, d.msg, bad[i].msg_part);
    }
    struct err_detail d = {0};
    assert_int_equal(signature_scheme_check_prefix(NULL, "header_prefix", &d), ERR_INVAL);
    assert_string_equal(d.field, "header_prefix");
}

/* ---- Bridge PKI (bridge-rsa) ---- */

static void test_bridge_vector_verifies(void **state)
{
    (void)state;
    int64_t t = 0;
    const char *body = BRIDGE_BODY;
    assert_true(signature_verify_bridge_rsa(BRIDGE_HEADER, BRIDGE_PUB, body, strlen(body), &t));
    assert_int_equal(t, BRIDGE_T);
    assert_true(signature_verify_bridge_rsa(BRIDGE_HEADER, BRIDGE_PUB, body, strlen(body), NULL));

    /* Any change to the body or to t breaks it. */
    const char *other = "{\"message\":\"Hello World?\"}";
    assert_false(signature_verify_bridge_rsa(BRIDGE_HEADER, BRIDGE_PUB, other, strlen(other), &t));
    assert_false(signature_verify_bridge_rsa("t=1705854411205,v0=" BRIDGE_SIG_B64, BRIDGE_PUB, body,
                                             strlen(body), NULL));
    /* ... and the wrong key. */
    assert_false(signature_verify_bridge_rsa(BRIDGE_HEADER, rsa1_pub, body, strlen(body), NULL));
    assert_int_equal(ERR_peek_error(), 0); /* failures leave libcrypto's error queue empty */
}

/* The vector pins the algorithm: checked with plain EVP, only SHA-256-then-sign verifies. */
static void test_bridge_vector_only_double_hash(void **state)
{
    (void)state;
    EVP_PKEY *pub = pem_public(BRIDGE_PUB);
    unsigned char sig[512], d[32];
    size_t sig_len = b64_decode(sig, BRIDGE_SIG_B64);
    const char *signed_str = "1705854411204." BRIDGE_BODY;
    assert_int_equal(sig_len, 256);
    sha256(d, signed_str);
    assert_true(raw_verify(pub, RSA_PKCS1_PADDING, sig, sig_len, d, sizeof(d)));
    assert_false(raw_verify(pub, RSA_PKCS1_PADDING, sig, sig_len, signed_str, strlen(signed_str)));
    assert_false(raw_verify(pub, RSA_PKCS1_PSS_PADDING, sig, sig_len, d, sizeof(d)));
    assert_false(
        raw_verify(pub, RSA_PKCS1_PSS_PADDING, sig, sig_len, signed_str, strlen(signed_str)));
    EVP_PKEY_free(pub);
}

/* Our verifier refuses single-hash and PSS signatures made with the right key. */
static void test_bridge_verify_refuses_other_forms(void **state)
{
    (void)state;
    EVP_PKEY *priv = pem_private(rsa1_priv);
    const char *body = BRIDGE_BODY;
    const char *signed_str = "1705854411204." BRIDGE_BODY;
    unsigned char d[32], sig[512];
    char header[1024];
    sha256(d, signed_str);

    size_t n = raw_sign(priv, RSA_PKCS1_PADDING, sig, sizeof(sig), d, sizeof(d));
    bridge_header(header, sizeof(header), BRIDGE_T, sig, n);
    assert_true(signature_verify_bridge_rsa(header, rsa1_pub, body, strlen(body), NULL));

    n = raw_sign(priv, RSA_PKCS1_PADDING, sig, sizeof(sig), signed_str, strlen(signed_str));
    bridge_header(header, sizeof(header), BRIDGE_T, sig, n);
    assert_false(signature_verify_bridge_rsa(header, rsa1_pub, body, strlen(body), NULL));

    n = raw_sign(priv, RSA_PKCS1_PSS_PADDING, sig, sizeof(sig), d, sizeof(d));
    bridge_header(header, sizeof(header), BRIDGE_T, sig, n);
    assert_false(signature_verify_bridge_rsa(header, rsa1_pub, body, strlen(body), NULL));

    n = raw_sign(priv, RSA_PKCS1_PSS_PADDING, sig, sizeof(sig), signed_str, strlen(signed_str));
    bridge_header(header, sizeof(header), BRIDGE_T, sig, n);
    assert_false(signature_verify_bridge_rsa(header, rsa1_pub, body, strlen(body), NULL));
    EVP_PKEY_free(priv);
}

static void test_bridge_sign_round_trip(void **state)
{
    (void)state;
    const char *body = A_BODY;
    char entry[SIGNATURE_BRIDGE_ENTRY_MAX], header[SIGNATURE_BRIDGE_ENTRY_MAX + 32];
    assert_int_equal(
        signature_bridge_rsa(entry, sizeof(entry), rsa1_priv, BRIDGE_T, body, strlen(body)),
        ERR_OK);
    assert_memory_equal(entry, "v0=", 3);
    assert_int_equal(strlen(entry), 3 + 344); /* a 256-byte signature */
    snprintf(header, sizeof(header), "t=%lld,%s", BRIDGE_T, entry);
    int64_t t = 0;
    assert_true(signature_verify_bridge_rsa(header, rsa1_pub, body, strlen(body), &t));
    assert_int_equal(t, BRIDGE_T);
    assert_false(signature_verify_bridge_rsa(header, rsa2_pub, body, strlen(body), NULL));
    assert_false(signature_verify_bridge_rsa(header, rsa1_pub, body, strlen(body) - 1, NULL));

    /* PKCS#1 v1.5 is deterministic: the prepared key signs the same bytes. */
    struct signature_pkey *k = NULL;
    char again[SIGNATURE_BRIDGE_ENTRY_MAX];
    assert_int_equal(signature_pkey_new_rsa(&k, rsa1_priv), ERR_OK);
    assert_int_equal(
        signature_pkey_bridge_rsa(k, again, sizeof(again), BRIDGE_T, body, strlen(body)), ERR_OK);
    assert_string_equal(again, entry);
    assert_int_equal(signature_pkey_v1a(k, again, sizeof(again), A_ID, A_TS, body, strlen(body)),
                     ERR_INVAL); /* an RSA key makes no Ed25519 signature */
    signature_pkey_free(k);

    /* Checked independently: RSA PKCS#1 v1.5 SHA-256 over SHA-256("<t>.<body>"). */
    EVP_PKEY *pub = pem_public(rsa1_pub);
    unsigned char sig[512], d[32];
    char signed_str[128];
    snprintf(signed_str, sizeof(signed_str), "%lld.%s", BRIDGE_T, body);
    sha256(d, signed_str);
    size_t n = b64_decode(sig, entry + 3);
    assert_true(raw_verify(pub, RSA_PKCS1_PADDING, sig, n, d, sizeof(d)));
    EVP_PKEY_free(pub);

    /* The empty body is signed too. */
    assert_int_equal(signature_bridge_rsa(entry, sizeof(entry), rsa1_priv, 0, NULL, 0), ERR_OK);
    snprintf(header, sizeof(header), "t=0,%s", entry);
    assert_true(signature_verify_bridge_rsa(header, rsa1_pub, "", 0, NULL));

    /* Too small a buffer. */
    assert_int_equal(signature_bridge_rsa(entry, 100, rsa1_priv, 0, NULL, 0), ERR_INVAL);
}

static void test_bridge_header_parsing(void **state)
{
    (void)state;
    const char *body = BRIDGE_BODY;
    size_t bl = strlen(body);
    static const char *const good[] = {
        BRIDGE_HEADER,
        "v0=" BRIDGE_SIG_B64 ",t=1705854411204",
        "t=1705854411204, v0=" BRIDGE_SIG_B64,
        " t=1705854411204 , v0=" BRIDGE_SIG_B64 " ",
        "t=1705854411204,v1=abc,v0=" BRIDGE_SIG_B64,          /* unknown items are skipped */
        "t=1705854411204,v0=AAAA,v0=" BRIDGE_SIG_B64,         /* rotation: any v0 may match */
        "t=1705854411204,v0=" BRIDGE_SIG_B64 ",v0=not*b64==", /* after a bad one too */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!signature_verify_bridge_rsa(good[i], BRIDGE_PUB, body, bl, NULL))
            fail_msg("header %zu should verify", i);

    static const char *const bad[] = {
        "",
        "v0=" BRIDGE_SIG_B64,
        "t=1705854411204",
        "t=1705854411204,v0=",
        "t=,v0=" BRIDGE_SIG_B64,
        "t=-1705854411204,v0=" BRIDGE_SIG_B64,
        "t=1705854411204x,v0=" BRIDGE_SIG_B64,
        "t=99999999999999999999,v0=" BRIDGE_SIG_B64,
        "t=1705854411204,t=1705854411204,v0=" BRIDGE_SIG_B64,
        "t=1705854411204,junk,v0=" BRIDGE_SIG_B64,
        "t=1705854411204,V0=" BRIDGE_SIG_B64,
        "t=1705854411204;v0=" BRIDGE_SIG_B64,
        "t=1705854411204,v0=" BRIDGE_SIG_B64 "AAAA",
        "t=1705854411204,v0=AAAA" BRIDGE_SIG_B64,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (signature_verify_bridge_rsa(bad[i], BRIDGE_PUB, body, bl, NULL))
            fail_msg("header %zu should not verify", i);
    assert_false(signature_verify_bridge_rsa(NULL, BRIDGE_PUB, body, bl, NULL));
    assert_false(signature_verify_bridge_rsa(BRIDGE_HEADER, NULL, body, bl, NULL));
    assert_false(
        signature_verify_bridge_rsa(BRIDGE_HEADER, "-----BEGIN PUBLIC KEY-----\n", body, bl, NULL));
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_rsa_keys(void **state)
{
    (void)state;
    assert_non_null(strstr(rsa1_priv, "-----BEGIN PRIVATE KEY-----\n"));
    assert_non_null(strstr(rsa1_pub, "-----BEGIN PUBLIC KEY-----\n"));
    assert_string_not_equal(rsa1_pub, rsa2_pub);
    EVP_PKEY *pub = pem_public(rsa1_pub);
    assert_true(EVP_PKEY_is_a(pub, "RSA"));
    assert_int_equal(EVP_PKEY_get_bits(pub), SIGNATURE_RSA_BITS);
    EVP_PKEY_free(pub);

    char derived[SIGNATURE_RSA_PUBLIC_MAX];
    assert_int_equal(signature_rsa_public(derived, sizeof(derived), rsa1_priv), ERR_OK);
    assert_string_equal(derived, rsa1_pub);
    assert_int_equal(signature_rsa_public(derived, 100, rsa1_priv), ERR_INVAL);
    assert_int_equal(signature_rsa_public(derived, sizeof(derived), rsa1_pub), ERR_INVAL);
    assert_int_equal(signature_rsa_public(derived, sizeof(derived), "garbage"), ERR_INVAL);

    char priv[SIGNATURE_RSA_PRIVATE_MAX], pubpem[SIGNATURE_RSA_PUBLIC_MAX];
    assert_int_equal(signature_rsa_generate(priv, 512, pubpem, sizeof(pubpem)), ERR_INVAL);
    for (size_t i = 0; i < 512; i++)
        assert_int_equal(priv[i], 0); /* a half-written private key is wiped */
    assert_int_equal(ERR_peek_error(), 0);
}

/* Keys the loaders refuse: too short, not RSA, encrypted (without prompting). */
static void test_rsa_refused_keys(void **state)
{
    (void)state;
    struct signature_pkey *k = (struct signature_pkey *)1;
    char buf[SIGNATURE_RSA_PRIVATE_MAX];

    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    assert_non_null(small);
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(b, small, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    snprintf(buf, sizeof(buf), "%.*s", (int)n, data);
    BIO_free(b);
    assert_int_equal(signature_pkey_new_rsa(&k, buf), ERR_INVAL);
    assert_null(k);

    b = BIO_new(BIO_s_mem());
    assert_int_equal(
        PEM_write_bio_PrivateKey(b, small, EVP_aes_128_cbc(), NULL, 0, NULL, (void *)"passphrase"),
        1);
    n = BIO_get_mem_data(b, &data);
    snprintf(buf, sizeof(buf), "%.*s", (int)n, data);
    BIO_free(b);
    assert_non_null(strstr(buf, "ENCRYPTED"));
    assert_int_equal(signature_pkey_new_rsa(&k, buf), ERR_INVAL);
    EVP_PKEY_free(small);

    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(b, ed, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(b, &data);
    snprintf(buf, sizeof(buf), "%.*s", (int)n, data);
    BIO_free(b);
    EVP_PKEY_free(ed);
    assert_int_equal(signature_pkey_new_rsa(&k, buf), ERR_INVAL);
    assert_int_equal(signature_pkey_new_rsa(&k, NULL), ERR_INVAL);
    assert_int_equal(signature_pkey_new_rsa(&k, ""), ERR_INVAL);
    assert_int_equal(signature_pkey_new_rsa(&k, rsa1_pub), ERR_INVAL);
    assert_int_equal(signature_pkey_new_rsa(&k, ed_sk), ERR_INVAL);
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- Ed25519 ---- */

static void test_ed25519_keys(void **state)
{
    (void)state;
    assert_memory_equal(ed_sk, "whsk_", 5);
    assert_memory_equal(ed_pk, "whpk_", 5);
    assert_int_equal(strlen(ed_sk), 5 + 44);
    assert_int_equal(strlen(ed_pk), 5 + 44);
    char pk[SIGNATURE_ED25519_PUBLIC_MAX];
    assert_int_equal(signature_ed25519_public(pk, sizeof(pk), ed_sk), ERR_OK);
    assert_string_equal(pk, ed_pk);

    /* The vector's 64-byte key gives the vector's public key, with the whpk_ prefix. */
    assert_int_equal(signature_ed25519_public(pk, sizeof(pk), C_SK), ERR_OK);
    assert_string_equal(pk, "whpk_" C_PK);
    assert_int_equal(signature_ed25519_public(pk, 20, C_SK), ERR_INVAL);
    assert_int_equal(signature_ed25519_public(pk, sizeof(pk), "whsk_AAAA"), ERR_INVAL);
    assert_int_equal(signature_ed25519_public(pk, sizeof(pk), rsa1_priv), ERR_INVAL);

    char sk2[SIGNATURE_ED25519_SECRET_MAX], pk2[SIGNATURE_ED25519_PUBLIC_MAX];
    assert_int_equal(signature_ed25519_generate(sk2, sizeof(sk2), pk2, sizeof(pk2)), ERR_OK);
    assert_string_not_equal(sk2, ed_sk);
    assert_int_equal(signature_ed25519_generate(sk2, 10, pk2, sizeof(pk2)), ERR_INVAL);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_ed25519_round_trip(void **state)
{
    (void)state;
    char one[SIGNATURE_ENTRY_MAX], two[SIGNATURE_ENTRY_MAX];
    const char *body = A_BODY;
    /* The stored "whsk_" form signs; the published "whpk_" form verifies. */
    assert_int_equal(signature_v1a(one, sizeof(one), ed_sk, A_ID, A_TS, body, strlen(body)),
                     ERR_OK);
    assert_true(signature_verify_v1a(one, ed_pk, A_ID, A_TS, body, strlen(body)));
    assert_true(signature_verify_v1a(one, ed_pk + 5, A_ID, A_TS, body, strlen(body)));
    assert_false(signature_verify_v1a(one, ed_pk, A_ID, A_TS + 1, body, strlen(body)));
    assert_false(signature_verify_v1a(one, "whpk_" C_PK, A_ID, A_TS, body, strlen(body)));

    struct signature_pkey *k = NULL;
    assert_int_equal(signature_pkey_new_ed25519(&k, ed_sk), ERR_OK);
    assert_int_equal(signature_pkey_v1a(k, two, sizeof(two), A_ID, A_TS, body, strlen(body)),
                     ERR_OK);
    assert_string_equal(two, one); /* Ed25519 is deterministic */
    char big[SIGNATURE_BRIDGE_ENTRY_MAX];
    assert_int_equal(signature_pkey_bridge_rsa(k, big, sizeof(big), 1, body, strlen(body)),
                     ERR_INVAL);
    signature_pkey_free(k);

    /* The vector through a prepared key, with and without the whsk_ prefix. */
    assert_int_equal(signature_pkey_new_ed25519(&k, "whsk_" C_SK), ERR_OK);
    assert_int_equal(signature_pkey_v1a(k, two, sizeof(two), A_ID, A_TS, body, strlen(body)),
                     ERR_OK);
    assert_string_equal(two, C_SIG);
    signature_pkey_free(k);
    assert_int_equal(signature_pkey_new_ed25519(&k, "whsk_"), ERR_INVAL);
    assert_null(k);
    signature_pkey_free(NULL);
}

/* ---- key material per scheme ---- */

static void test_scheme_generate(void **state)
{
    (void)state;
    char secret[SIGNATURE_SCHEME_SECRET_MAX], pub[SIGNATURE_SCHEME_PUBLIC_MAX],
        again[SIGNATURE_SCHEME_PUBLIC_MAX];
    struct signature_scheme_key k;

    assert_int_equal(signature_scheme_generate(SIGNATURE_SCHEME_STANDARD, secret, sizeof(secret),
                                               pub, sizeof(pub)),
                     ERR_OK);
    assert_memory_equal(secret, "whsec_", 6);
    assert_string_equal(pub, "");
    assert_int_equal(signature_scheme_key_init(&k, SIGNATURE_SCHEME_STANDARD, secret), ERR_OK);
    signature_scheme_key_release(&k);
    assert_int_equal(
        signature_scheme_public_key(SIGNATURE_SCHEME_STANDARD, again, sizeof(again), secret),
        ERR_OK);
    assert_string_equal(again, "");

    assert_int_equal(signature_scheme_generate(SIGNATURE_SCHEME_ED25519, secret, sizeof(secret),
                                               pub, sizeof(pub)),
                     ERR_OK);
    assert_memory_equal(secret, "whsk_", 5);
    assert_memory_equal(pub, "whpk_", 5);
    assert_int_equal(
        signature_scheme_public_key(SIGNATURE_SCHEME_ED25519, again, sizeof(again), secret),
        ERR_OK);
    assert_string_equal(again, pub);
    assert_int_equal(signature_scheme_key_init(&k, SIGNATURE_SCHEME_ED25519, secret), ERR_OK);
    signature_scheme_key_release(&k);
    /* The secret of one scheme is not a key of another. */
    assert_int_equal(signature_scheme_key_init(&k, SIGNATURE_SCHEME_BRIDGE_RSA, secret), ERR_INVAL);
    assert_int_equal(signature_scheme_key_init(&k, SIGNATURE_SCHEME_STANDARD, secret), ERR_INVAL);

    assert_int_equal(
        signature_scheme_public_key(SIGNATURE_SCHEME_BRIDGE_RSA, again, sizeof(again), rsa1_priv),
        ERR_OK);
    assert_string_equal(again, rsa1_pub);
    assert_int_equal(signature_scheme_key_init(&k, SIGNATURE_SCHEME_BRIDGE_RSA, rsa1_priv), ERR_OK);
    signature_scheme_key_release(&k);
    assert_int_equal(signature_scheme_key_init(&k, SIGNATURE_SCHEME_ED25519, rsa1_priv), ERR_INVAL);
    assert_int_equal(signature_scheme_key_init(&k, SIGNATURE_SCHEME_STANDARD, rsa1_priv),
                     ERR_INVAL);

    assert_int_equal(
        signature_scheme_generate(SIGNATURE_SCHEME_NONE, secret, sizeof(secret), pub, sizeof(pub)),
        ERR_OK);
    assert_string_equal(secret, "");
    assert_string_equal(pub, "");
    assert_int_equal(signature_scheme_key_init(&k, SIGNATURE_SCHEME_NONE, "whatever"), ERR_INVAL);

    /* Short buffers are refused, never overrun (and never reach id_signing_secret's panic). */
    assert_int_equal(
        signature_scheme_generate(SIGNATURE_SCHEME_STANDARD, secret, 20, pub, sizeof(pub)),
        ERR_INVAL);
    assert_int_equal(
        signature_scheme_generate(SIGNATURE_SCHEME_ED25519, secret, sizeof(secret), pub, 20),
        ERR_INVAL);
    assert_int_equal(signature_scheme_generate((enum signature_scheme)9, secret, sizeof(secret),
                                               pub, sizeof(pub)),
                     ERR_INVAL);
}

/* ---- delivery headers ---- */

static void assert_names(const struct signature_scheme_header_list *h, const char *const *names,
                         size_t n)
{
    if (h->n != n) {
        for (size_t i = 0; i < h->n; i++)
            print_error("  got %s: %s\n", h->h[i].name, h->h[i].value);
        fail_msg("%zu headers, expected %zu", h->n, n);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(h->h[i].name, names[i]);
}

static struct signature_scheme_header_list hl; /* 13 KB: off the test's stack */

static void test_headers_standard(void **state)
{
    (void)state;
    struct signature_scheme_key k;
    const struct signature_scheme_key *keys[] = {&k};
    struct signature_scheme_cfg cfg = {.scheme = SIGNATURE_SCHEME_STANDARD};
    assert_int_equal(signature_scheme_key_init(&k, SIGNATURE_SCHEME_STANDARD, A_SECRET), ERR_OK);
    /* now_ms is floored to seconds for both timestamp headers. */
    assert_int_equal(signature_scheme_headers(&hl, &cfg, keys, 1, A_ID, A_TS * 1000LL + 999, A_BODY,
                                              strlen(A_BODY)),
                     ERR_OK);
    static const char *const names[] = {"webhook-id",          "webhook-timestamp",
                                        "webhook-signature",   "X-Webhook-Id",
                                        "X-Webhook-Timestamp", "X-Webhook-Signature"};
    assert_names(&hl, names, 6);
    char hb[72];
    hookbridge_hex(hb, A_SECRET, "1614265330." A_BODY);
    assert_string_equal(hl.h[0].value, A_ID);
    assert_string_equal(hl.h[1].value, "1614265330");
    assert_string_equal(hl.h[2].value, A_SIG);
    assert_string_equal(hl.h[3].value, A_ID);
    assert_string_equal(hl.h[4].value, "1614265330");
    assert_string_equal(hl.h[5].value, hb);
    assert_string_equal(signature_scheme_find_header(&hl, "WEBHOOK-SIGNATURE"), A_SIG);
    assert_null(signature_scheme_find_header(&hl, "svix-id"));
    signature_scheme_key_release(&k);
}

static void test_headers_standard_rotation_prefix_svix(void **state)
{
    (void)state;
    struct signature_scheme_key k1, k2;
    const struct signature_scheme_key *keys[] = {&k1, &k2};
    struct signature_scheme_cfg cfg = {
        .scheme = SIGNATURE_SCHEME_STANDARD, .header_prefix = "X-Acme-", .svix_headers = true};
    assert_int_equal(signature_scheme_key_init(&k1, SIGNATURE_SCHEME_STANDARD, A_SECRET), ERR_OK);
    assert_int_equal(signature_scheme_key_init(&k2, SIGNATURE_SCHEME_STANDARD, B_SECRET), ERR_OK);
    assert_int_equal(
        signature_scheme_headers(&hl, &cfg, keys, 2, A_ID, A_TS * 1000LL, A_BODY, strlen(A_BODY)),
        ERR_OK);
    static const char *const names[] = {"webhook-id", "webhook-timestamp", "webhook-signature",
                                        "svix-id",    "svix-timestamp",    "svix-signature",
                                        "X-Acme-Id",  "X-Acme-Timestamp",  "X-Acme-Signature"};
    assert_names(&hl, names, 9);
    assert_int_equal(SIGNATURE_SCHEME_HEADERS_MAX, 9);

    const char *sw = hl.h[2].value;
    assert_memory_equal(sw, A_SIG " v1,",
                        strlen(A_SIG) + 4); /* one entry per key, space-separated */
    assert_true(signature_verify_v1(sw, A_SECRET, A_ID, A_TS, A_BODY, strlen(A_BODY)));
    assert_true(signature_verify_v1(sw, B_SECRET, A_ID, A_TS, A_BODY, strlen(A_BODY)));
    for (int i = 0; i < 3; i++)
        assert_string_equal(hl.h[3 + i].value, hl.h[i].value); /* svix-* repeat webhook-* */

    char hb1[72], hb2[72], both[160];
    hookbridge_hex(hb1, A_SECRET, "1614265330." A_BODY);
    hookbridge_hex(hb2, B_SECRET, "1614265330." A_BODY);
    snprintf(both, sizeof(both), "%s,%s", hb1, hb2); /* API.md §5: comma-separated */
    assert_string_equal(hl.h[8].value, both);
    assert_null(signature_scheme_find_header(&hl, "X-Webhook-Signature"));
    signature_scheme_key_release(&k1);
    signature_scheme_key_release(&k2);
}

static void test_headers_ed25519(void **state)
{
    (void)state;
    struct signature_scheme_key k1, k2;
    const struct signature_scheme_key *keys[] = {&k1, &k2};
    struct signature_scheme_cfg cfg = {.scheme = SIGNATURE_SCHEME_ED25519};
    assert_int_equal(signature_scheme_key_init(&k1, SIGNATURE_SCHEME_ED25519, C_SK), ERR_OK);
    assert_int_equal(signature_scheme_key_init(&k2, SIGNATURE_SCHEME_ED25519, ed_sk), ERR_OK);

    assert_int_equal(
        signature_scheme_headers(&hl, &cfg, keys, 1, A_ID, A_TS * 1000LL, A_BODY, strlen(A_BODY)),
        ERR_OK);
    static const char *const names[] = {"webhook-id", "webhook-timestamp", "webhook-signature",
                                        "X-Webhook-Id"};
    assert_names(&hl, names, 4);
    assert_string_equal(hl.h[2].value, C_SIG);

    cfg.svix_headers = true;
    assert_int_equal(
        signature_scheme_headers(&hl, &cfg, keys, 2, A_ID, A_TS * 1000LL, A_BODY, strlen(A_BODY)),
        ERR_OK);
    static const char *const names2[] = {"webhook-id",  "webhook-timestamp", "webhook-signature",
                                         "svix-id",     "svix-timestamp",    "svix-signature",
                                         "X-Webhook-Id"};
    assert_names(&hl, names2, 7);
    const char *sw = hl.h[2].value;
    assert_memory_equal(sw, C_SIG " v1a,", strlen(C_SIG) + 5);
    assert_true(signature_verify_v1a(sw, "whpk_" C_PK, A_ID, A_TS, A_BODY, strlen(A_BODY)));
    assert_true(signature_verify_v1a(sw, ed_pk, A_ID, A_TS, A_BODY, strlen(A_BODY)));
    assert_string_equal(hl.h[5].value, sw);
    signature_scheme_key_release(&k1);
    signature_scheme_key_release(&k2);
}

static void test_headers_bridge_rsa(void **state)
{
    (void)state;
    struct signature_scheme_key k1, k2;
    const struct signature_scheme_key *keys[] = {&k1, &k2};
    struct signature_scheme_cfg cfg = {.scheme = SIGNATURE_SCHEME_BRIDGE_RSA};
    const char *body = BRIDGE_BODY;
    assert_int_equal(signature_scheme_key_init(&k1, SIGNATURE_SCHEME_BRIDGE_RSA, rsa1_priv),
                     ERR_OK);
    assert_int_equal(signature_scheme_key_init(&k2, SIGNATURE_SCHEME_BRIDGE_RSA, rsa2_priv),
                     ERR_OK);

    assert_int_equal(
        signature_scheme_headers(&hl, &cfg, keys, 1, A_ID, BRIDGE_T, body, strlen(body)), ERR_OK);
    static const char *const names[] = {"webhook-id", "X-Webhook-Id", "X-Webhook-Signature"};
    assert_names(&hl, names, 3);
    const char *v = hl.h[2].value;
    assert_memory_equal(v, "t=1705854411204,v0=", 19);
    assert_null(strchr(v + 19, ','));
    int64_t t = 0;
    assert_true(signature_verify_bridge_rsa(v, rsa1_pub, body, strlen(body), &t));
    assert_int_equal(t, BRIDGE_T); /* milliseconds, not seconds */
    assert_false(signature_verify_bridge_rsa(v, rsa2_pub, body, strlen(body), NULL));

    cfg.header_prefix = "X-Acme-";
    cfg.svix_headers = true;
    assert_int_equal(
        signature_scheme_headers(&hl, &cfg, keys, 2, A_ID, BRIDGE_T, body, strlen(body)), ERR_OK);
    static const char *const names2[] = {"webhook-id", "svix-id", "X-Acme-Id", "X-Acme-Signature"};
    assert_names(&hl, names2, 4);
    v = hl.h[3].value;
    assert_true(strlen(v) == 19 + 344 + 4 + 344); /* t, v0 and a second ",v0=" */
    assert_true(signature_verify_bridge_rsa(v, rsa1_pub, body, strlen(body), NULL));
    assert_true(signature_verify_bridge_rsa(v, rsa2_pub, body, strlen(body), NULL));
    signature_scheme_key_release(&k1);
    signature_scheme_key_release(&k2);
}

static void test_headers_none(void **state)
{
    (void)state;
    struct signature_scheme_cfg cfg = {.scheme = SIGNATURE_SCHEME_NONE};
    assert_int_equal(signature_scheme_headers(&hl, &cfg, NULL, 0, A_ID, 1, "x", 1), ERR_OK);
    static const char *const names[] = {"webhook-id", "X-Webhook-Id"};
    assert_names(&hl, names, 2);
    cfg.svix_headers = true;
    cfg.header_prefix = "Acme-";
    assert_int_equal(signature_scheme_headers(&hl, &cfg, NULL, 0, A_ID, 1, NULL, 0), ERR_OK);
    static const char *const names2[] = {"webhook-id", "svix-id", "Acme-Id"};
    assert_names(&hl, names2, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(hl.h[i].value, A_ID);
}

static void test_headers_errors(void **state)
{
    (void)state;
    struct signature_scheme_key std, ed, rsa;
    assert_int_equal(signature_scheme_key_init(&std, SIGNATURE_SCHEME_STANDARD, A_SECRET), ERR_OK);
    assert_int_equal(signature_scheme_key_init(&ed, SIGNATURE_SCHEME_ED25519, ed_sk), ERR_OK);
    assert_int_equal(signature_scheme_key_init(&rsa, SIGNATURE_SCHEME_BRIDGE_RSA, rsa1_priv),
                     ERR_OK);
    const struct signature_scheme_key *one_std[] = {&std};
    const struct signature_scheme_key *three[] = {&std, &std, &std};
    const struct signature_scheme_key *mixed[] = {&ed, &rsa};
    const struct signature_scheme_key *null_key[] = {NULL};
    struct signature_scheme_cfg std_cfg = {.scheme = SIGNATURE_SCHEME_STANDARD};
    struct signature_scheme_cfg ed_cfg = {.scheme = SIGNATURE_SCHEME_ED25519};
    struct signature_scheme_cfg bad_prefix = {.scheme = SIGNATURE_SCHEME_NONE,
                                              .header_prefix = "X-Acme"};
    struct signature_scheme_cfg bad_scheme = {.scheme = (enum signature_scheme)7};
    const char *b = A_BODY;
    size_t bl = strlen(b);

    const struct {
        const struct signature_scheme_cfg *cfg;
        const struct signature_scheme_key *const *keys;
        size_t n_keys;
        const char *id;
        int64_t now_ms;
    } cases[] = {
        {&std_cfg, NULL, 0, A_ID, 1},           /* a signed scheme without a key */
        {&std_cfg, three, 3, A_ID, 1},          /* more keys than a rotation has */
        {&ed_cfg, one_std, 1, A_ID, 1},         /* a key of another scheme */
        {&ed_cfg, mixed, 2, A_ID, 1},           /* one of them of another scheme */
        {&std_cfg, null_key, 1, A_ID, 1},       /* a NULL key */
        {&std_cfg, one_std, 1, "", 1},          /* empty id */
        {&std_cfg, one_std, 1, NULL, 1},        /* no id */
        {&std_cfg, one_std, 1, "a\r\nX: y", 1}, /* an id that would split the header */
        {&std_cfg, one_std, 1, "a b", 1},
        {&std_cfg, one_std, 1, A_ID, -1000}, /* before 1970 */
        {&bad_prefix, NULL, 0, A_ID, 1},
        {&bad_scheme, NULL, 0, A_ID, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hl.n = 5;
        if (signature_scheme_headers(&hl, cases[i].cfg, cases[i].keys, cases[i].n_keys, cases[i].id,
                                     cases[i].now_ms, b, bl) != ERR_INVAL)
            fail_msg("case %zu was accepted", i);
        assert_int_equal(hl.n, 0);
    }
    /* An id of the longest allowed length passes; one more character does not. */
    char id[SIGNATURE_SCHEME_MSG_ID_MAX + 2];
    memset(id, 'a', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    assert_int_equal(signature_scheme_headers(&hl, &std_cfg, one_std, 1, id, 1, b, bl), ERR_INVAL);
    id[SIGNATURE_SCHEME_MSG_ID_MAX] = '\0';
    assert_int_equal(signature_scheme_headers(&hl, &std_cfg, one_std, 1, id, 1, b, bl), ERR_OK);
    assert_string_equal(signature_scheme_find_header(&hl, "x-webhook-id"), id);

    signature_scheme_key_release(&std);
    signature_scheme_key_release(&ed);
    signature_scheme_key_release(&rsa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scheme_names),
        cmocka_unit_test(test_prefix_check),
        cmocka_unit_test(test_bridge_vector_verifies),
        cmocka_unit_test(test_bridge_vector_only_double_hash),
        cmocka_unit_test(test_bridge_verify_refuses_other_forms),
        cmocka_unit_test(test_bridge_sign_round_trip),
        cmocka_unit_test(test_bridge_header_parsing),
        cmocka_unit_test(test_rsa_keys),
        cmocka_unit_test(test_rsa_refused_keys),
        cmocka_unit_test(test_ed25519_keys),
        cmocka_unit_test(test_ed25519_round_trip),
        cmocka_unit_test(test_scheme_generate),
        cmocka_unit_test(test_headers_standard),
        cmocka_unit_test(test_headers_standard_rotation_prefix_svix),
        cmocka_unit_test(test_headers_ed25519),
        cmocka_unit_test(test_headers_bridge_rsa),
        cmocka_unit_test(test_headers_none),
        cmocka_unit_test(test_headers_errors),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
