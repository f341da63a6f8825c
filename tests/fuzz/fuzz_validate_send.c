/*
 * fuzz_validate_send - libFuzzer harness for the send-body validator and the
 * endpoint URL check (the two parsers fed straight from the network).
 * Built with clang -fsanitize=fuzzer by `make fuzz`; built with the normal
 * compiler (FUZZ_REPLAY) it replays the committed corpus as a regression test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    }
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
