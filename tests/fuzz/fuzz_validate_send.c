/*
 * fuzz_validate_send - libFuzzer harness for the send-body validator and the
 * endpoint URL check (the two parsers fed straight from the network).
 * Besides not crashing, it checks that an accepted payload is one valid JSON
 * value copied byte for byte from the body, and that json_scan accepts
 * everything jansson accepts (jansson is stricter only where it cannot
 * represent a value). Built with clang -fsanitize=fuzzer by `make fuzz`; built with the normal
 * compiler (FUZZ_REPLAY) it replays the committed corpus as a regression test.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_scan.h"
#include "core/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct send_request r;
    struct err_detail d;
    memset(&r, 0, sizeof(r));
    if (validate_send(&r, (const char *)data, size, &d) == ERR_OK) {
        /* A valid body always yields a payload within the limit. */
        if (!r.payload || r.payload_len > VALIDATE_MAX_PAYLOAD_BYTES)
            abort();
        /* ...which is one JSON value, nested at most one level less than the body... */
        struct err_detail pd;
        if (r.payload_len == 0 || r.payload[r.payload_len] != '\0' ||
            json_scan_text(r.payload, r.payload_len, VALIDATE_MAX_JSON_DEPTH - 1, &pd) != ERR_OK)
            abort();
        /* ...with no whitespace around it, copied unchanged from the body. */
        if (strchr(" \t\r\n", r.payload[0]) || strchr(" \t\r\n", r.payload[r.payload_len - 1]))
            abort();
        bool is_found = false;
        for (size_t i = 0; !is_found && i + r.payload_len <= size; i++)
            is_found = memcmp(data + i, r.payload, r.payload_len) == 0;
        if (!is_found)
            abort();
    }
    /*
     * Whatever jansson parses, json_scan must accept (jansson nests up to
     * 2048). Not with NUL bytes: jansson 2.14 accepts a top-level literal
     * followed by one ("false\0"), which json_scan rightly rejects.
     */
    json_t *j = memchr(data, '\0', size)
                    ? NULL
                    : json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (j && json_scan_text((const char *)data, size, 4096, &d) != ERR_OK) {
        fprintf(stderr, "json_scan rejects what jansson accepts: %s\n", d.msg);
        abort();
    }
    json_decref(j);
    send_request_release(&r);
    char *url = malloc(size + 1);
    if (!url)
        abort();
    memcpy(url, data, size);
    url[size] = '\0';
    validate_endpoint_url(url, size % 2 == 0, &d);
    free(url);
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
        static uint8_t buf[4 * 1024 * 1024];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("replayed %d corpus files\n", argc - 1);
    return 0;
}
#endif
