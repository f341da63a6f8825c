/*
 * fuzz_signature - libFuzzer harness for signature-header parsing
 * (signature_verify_bridge_rsa, signature_verify_v1, signature_verify_v1a)
 * and for the header names and values signature_scheme builds from an
 * endpoint's prefix and a message id.
 *
 * Input format: the first line (up to LF, cut at a NUL) is the text under
 * test; the rest, byte for byte, is the body.
 *
 * Checks, besides not crashing (and ASan/UBSan):
 * - the line as an X-Webhook-Signature header verifies with Bridge's
 *   published public key only for Bridge's published t and body (nobody
 *   holds the private key, so anything else would be a forgery);
 * - the line as a webhook-signature header is run through the v1 and v1a
 *   verifiers (no oracle: reaching them is the point);
 * - signature_scheme_parse accepts exactly the four scheme names, and
 *   signature_scheme_name gives the name back;
 * - signature_scheme_check_prefix agrees with ^[token chars]{1,31}-$ minus
 *   "webhook-" and "svix-" (any case);
 * - with the line as header prefix (when valid) and as message id, every
 *   scheme's header list is built or refused as a whole; names are the
 *   prefix or webhook-/svix- followed by a fixed word, and no name or value
 *   holds a byte outside 0x21..0x7e (values: 0x20..0x7e).
 *
 * Built with clang -fsanitize=fuzzer by `make fuzz`; with the normal compiler
 * (FUZZ_REPLAY) it replays the committed corpus (tests/fuzz/corpus/signature).
 * See docs/internals/fuzzing.md.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/signature.h"
#include "core/signature_scheme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
#define A_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define C_SK                                                                                       \
    "6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="
#define C_PK "1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
#define LINE_MAX_LEN 9000

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool reference_prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n < 2 || n > SIGNATURE_SCHEME_PREFIX_MAX || p[n - 1] != '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(p[i]))
            return false;
    return strcasecmp(p, "webhook-") != 0 && strcasecmp(p, "svix-") != 0;
}

static void check_text(const char *s, char lowest)
{
    for (; *s; s++)
        if (*s < lowest || *s > 0x7e)
            abort();
}

static bool has_word_after(const char *name, const char *start, const char *const *words)
{
    size_t n = strlen(start);
    if (strncmp(name, start, n) != 0)
        return false;
    for (size_t i = 0; words[i]; i++)
        if (strcmp(name + n, words[i]) == 0)
            return true;
    return false;
}

static struct signature_scheme_key keys[3]; /* standard, ed25519, none (unused); prepared once */
static bool keys_ready;

static void check_headers(const char *line, const void *body, size_t body_len)
{
    static const char *const lower[] = {"id", "timestamp", "signature", NULL};
    static const char *const upper[] = {"Id", "Timestamp", "Signature", NULL};
    static struct signature_scheme_header_list hl;
    bool prefix_ok = signature_scheme_check_prefix(line, "header_prefix", NULL) == ERR_OK;
    const char *prefix = prefix_ok ? line : NULL;
    const char *expect_prefix = prefix ? prefix : SIGNATURE_SCHEME_DEFAULT_PREFIX;

    if (!keys_ready) {
        if (signature_scheme_key_init(&keys[0], SIGNATURE_SCHEME_STANDARD, A_SECRET) != ERR_OK ||
            signature_scheme_key_init(&keys[1], SIGNATURE_SCHEME_ED25519, C_SK) != ERR_OK)
            abort();
        keys_ready = true;
    }
    /* bridge-rsa is left out: an RSA signature per input would slow fuzzing 100-fold. */
    static const enum signature_scheme schemes[] = {
        SIGNATURE_SCHEME_STANDARD, SIGNATURE_SCHEME_ED25519, SIGNATURE_SCHEME_NONE};
    for (size_t s = 0; s < 3; s++) {
        const struct signature_scheme_key *k[] = {&keys[s]};
        struct signature_scheme_cfg cfg = {
            .scheme = schemes[s], .header_prefix = prefix, .svix_headers = line[0] & 1};
        enum err e =
            signature_scheme_headers(&hl, &cfg, k, schemes[s] == SIGNATURE_SCHEME_NONE ? 0 : 1,
                                     line, BRIDGE_T, body, body_len);
        if (e != ERR_OK) {
            if (hl.n != 0)
                abort();
            continue;
        }
        if (hl.n < 2 || hl.n > SIGNATURE_SCHEME_HEADERS_MAX)
            abort();
        for (size_t i = 0; i < hl.n; i++) {
            const char *name = hl.h[i].name;
            if (!has_word_after(name, "webhook-", lower) && !has_word_after(name, "svix-", lower) &&
                !has_word_after(name, expect_prefix, upper))
                abort();
            check_text(name, 0x21);
            check_text(hl.h[i].value, 0x20);
        }
        /* The id headers carry the id unchanged. */
        const char *id = signature_scheme_find_header(&hl, "webhook-id");
        if (!id || strcmp(id, line) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char line[LINE_MAX_LEN + 1];
    const uint8_t *lf = memchr(data, '\n', size);
    size_t line_len = lf ? (size_t)(lf - data) : size;
    if (line_len > LINE_MAX_LEN)
        line_len = LINE_MAX_LEN;
    memcpy(line, data, line_len);
    line[line_len] = '\0'; /* strlen(line) may be shorter: cut at a NUL */
    const uint8_t *body = lf ? lf + 1 : data + size;
    size_t body_len = (size_t)(data + size - body);

    int64_t t = -1;
    if (signature_verify_bridge_rsa(line, BRIDGE_PUB, body, body_len, &t) &&
        (t != BRIDGE_T || body_len != strlen(BRIDGE_BODY) ||
         memcmp(body, BRIDGE_BODY, body_len) != 0))
        abort();
    (void)signature_verify_v1(line, A_SECRET, "msg_fuzz", 1614265330, body, body_len);
    (void)signature_verify_v1a(line, C_PK, "msg_fuzz", 1614265330, body, body_len);

    enum signature_scheme s;
    bool parsed = signature_scheme_parse(&s, line, "signature_scheme", NULL) == ERR_OK;
    bool named = !strcmp(line, "standard") || !strcmp(line, "ed25519") ||
                 !strcmp(line, "bridge-rsa") || !strcmp(line, "none");
    if (parsed != named || (parsed && strcmp(signature_scheme_name(s), line) != 0))
        abort();
    if ((signature_scheme_check_prefix(line, "header_prefix", NULL) == ERR_OK) !=
        reference_prefix_ok(line))
        abort();
    check_headers(line, body, body_len);
    return 0;
}

#ifdef FUZZ_REPLAY
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "cannot open %s\n", argv[i]);
            return 1;
        }
        static uint8_t buf[1024 * 1024];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    for (int i = 0; i < 3; i++)
        signature_scheme_key_release(&keys[i]);
    printf("replayed %d corpus files\n", argc - 1);
    return 0;
}
#endif
