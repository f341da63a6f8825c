/*
 * curl_sender - bare libcurl multi sender, the ceiling for hookd's deliveries/s.
 *
 * Description
 *   Keeps N easy handles busy on one multi handle, each POSTing the same ~200-byte
 *   JSON body with webhook-style headers to one URL over keep-alive connections,
 *   for a fixed duration (or until a fixed number of requests has completed).
 *   Only transfers that complete with a 2xx status are counted. It prints one
 *   summary line of key=value pairs that bench/run.sh parses.
 *
 *   It deliberately does none of hookd's work (no store, no scheduling): it is
 *   what this machine's libcurl can push to the same receiver, so the gap
 *   between it and hookd is hookd's own cost. With -s every request is signed
 *   afresh the way hookd signs a delivery (a new webhook-id and timestamp, a
 *   Standard Webhooks v1 HMAC in base64 and a HookBridge HMAC in hex, new
 *   header list), with the HMAC key decoded once: the bare signed delivery.
 *
 *   The summary also gives cpu_us_per_req: this process's user+system CPU time
 *   (getrusage) divided by the completed 2xx requests, the ceiling for hookd's
 *   CPU per delivery.
 *
 * Usage
 *   curl_sender URL [-c CONCURRENCY] [-d SECONDS] [-n COUNT] [-s]
 *   defaults: -c 64 -d 8; -n 0 means no count limit.
 *
 * Exit status
 *   0 when every counted transfer was a 2xx, 1 when some failed, 2 on usage or
 *   setup errors.
 *
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_CONCURRENCY 4096

static const char body[] =
    "{\"type\":\"invoice.paid\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"data\":{\"invoice_id\":"
    "\"inv_0123456789abcdef\",\"customer_id\":\"cus_0123456789abcdef\",\"amount\":4200,"
    "\"currency\":\"eur\",\"lines\":[{\"sku\":\"plan-pro\",\"qty\":1}],\"note\":\"bench\"}}";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A whsec_ secret as hookd's endpoints have (24 random bytes in base64). */
static const char secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Fresh webhook headers for one attempt: id, timestamp, v1 and sha256 signatures. */
static struct curl_slist *signed_headers(const unsigned char *key, int key_len, long long seq)
{
    char id[64], ts[24], buf[512], b64[64], hex[65], line[160];
    unsigned char mac[32];
    unsigned int mac_len = 0;
    long long now = (long long)time(NULL);
    snprintf(id, sizeof(id), "msg_%016llx%016llx", seq, now);
    snprintf(ts, sizeof(ts), "%lld", now);
    /* v1: base64(HMAC(key, id.ts.body)) */
    int n = snprintf(buf, sizeof(buf), "%s.%s.%s", id, ts, body);
    HMAC(EVP_sha256(), key, key_len, (const unsigned char *)buf, (size_t)n, mac, &mac_len);
    EVP_EncodeBlock((unsigned char *)b64, mac, (int)mac_len);
    /* HookBridge: hex(HMAC(whole secret, ts.body)) */
    n = snprintf(buf, sizeof(buf), "%s.%s", ts, body);
    HMAC(EVP_sha256(), secret, (int)(sizeof(secret) - 1), (const unsigned char *)buf, (size_t)n,
         mac, &mac_len);
    for (unsigned int i = 0; i < mac_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    struct curl_slist *h = NULL;
    const char *fixed[] = {"Content-Type: application/json", "User-Agent: hookd-bench/1",
                           "Expect:"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        h = curl_slist_append(h, fixed[i]);
    snprintf(line, sizeof(line), "webhook-id: %s", id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "webhook-timestamp: %s", ts);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "webhook-signature: v1,%s", b64);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Webhook-Id: %s", id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Webhook-Timestamp: %s", ts);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Webhook-Signature: sha256=%s", hex);
    h = curl_slist_append(h, line);
    if (h == NULL) {
        fprintf(stderr, "curl_sender: out of memory\n");
        exit(2);
    }
    return h;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

static void usage(void)
{
    fprintf(stderr, "usage: curl_sender URL [-c CONCURRENCY] [-d SECONDS] [-n COUNT] [-s]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    long concurrency = 64;
    double duration_s = 8.0;
    long long max_count = 0;
    bool sign = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            concurrency = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            duration_s = strtod(argv[++i], NULL);
        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            max_count = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "-s") == 0) {
            sign = true;
        } else if (argv[i][0] != '-' && url == NULL) {
            url = argv[i];
        } else {
            usage();
        }
    }
    if (url == NULL || concurrency < 1 || concurrency > MAX_CONCURRENCY || duration_s <= 0 ||
        max_count < 0)
        usage();

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_sender: cannot initialise libcurl\n");
        return 2;
    }
    CURLM *multi = curl_multi_init();
    CURL **easy = calloc((size_t)concurrency, sizeof(*easy));
    if (multi == NULL || easy == NULL) {
        fprintf(stderr, "curl_sender: out of memory\n");
        return 2;
    }
    /* Keep every connection in the cache: one per handle, all reused. */
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, concurrency);

    /* Headers shaped like a hookd delivery (Standard Webhooks + HookBridge). */
    struct curl_slist *headers = NULL;
    const char *hdr_lines[] = {
        "Content-Type: application/json",
        "User-Agent: hookd-bench/1",
        "webhook-id: msg_2bQkLx3xZ8f4N1cE7yVt0uHhJpA",
        "webhook-timestamp: 1700000000",
        "webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        ("X-Webhook-Signature: "
         "sha256=2b6c8a1f0e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a49"),
        "Expect:",
    };
    for (size_t i = 0; i < sizeof(hdr_lines) / sizeof(hdr_lines[0]); i++) {
        struct curl_slist *next = curl_slist_append(headers, hdr_lines[i]);
        if (next == NULL) {
            fprintf(stderr, "curl_sender: out of memory\n");
            return 2;
        }
        headers = next;
    }

    /* The v1 HMAC key: the base64 part of the secret, decoded once. */
    unsigned char key[64];
    int key_len =
        EVP_DecodeBlock(key, (const unsigned char *)secret + 6, (int)(sizeof(secret) - 1 - 6));
    struct curl_slist **own = calloc((size_t)concurrency, sizeof(*own));
    if (key_len <= 0 || own == NULL) {
        fprintf(stderr, "curl_sender: cannot set up signing\n");
        return 2;
    }
    long long seq = 0;

    for (long i = 0; i < concurrency; i++) {
        CURL *e = curl_easy_init();
        if (e == NULL) {
            fprintf(stderr, "curl_sender: cannot create easy handle\n");
            return 2;
        }
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(sizeof(body) - 1));
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)&own[i]);
        if (sign) {
            own[i] = signed_headers(key, key_len, seq++);
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, own[i]);
        }
        easy[i] = e;
    }

    long long started = 0, ok = 0, failed = 0;
    long long fail_by_code[6] = {0}; /* index = status / 100, 0 = transport error */
    CURLcode first_err = CURLE_OK;
    long running_handles = 0;

    double t0 = now_s();
    double cpu0 = cpu_s();
    double deadline = t0 + duration_s;
    for (long i = 0; i < concurrency && (max_count == 0 || started < max_count); i++) {
        curl_multi_add_handle(multi, easy[i]);
        started++;
        running_handles++;
    }

    double t_end = 0;
    while (running_handles > 0) {
        int still_running = 0;
        CURLMcode mc = curl_multi_perform(multi, &still_running);
        if (mc != CURLM_OK) {
            fprintf(stderr, "curl_sender: curl_multi_perform: %s\n", curl_multi_strerror(mc));
            return 2;
        }
        double t = now_s();
        bool stopping = t >= deadline || (max_count > 0 && started >= max_count);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *e = msg->easy_handle;
            long code = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            /* Transfers finishing after the deadline are not counted. */
            if (t < deadline) {
                if (msg->data.result == CURLE_OK && code >= 200 && code < 300) {
                    ok++;
                } else {
                    failed++;
                    if (msg->data.result != CURLE_OK && first_err == CURLE_OK)
                        first_err = msg->data.result;
                    long idx = (msg->data.result != CURLE_OK) ? 0 : code / 100;
                    if (idx >= 0 && idx < 6)
                        fail_by_code[idx]++;
                }
            }
            curl_multi_remove_handle(multi, e);
            running_handles--;
            if (!stopping) {
                if (sign) {
                    struct curl_slist **mine = NULL;
                    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&mine);
                    curl_slist_free_all(*mine);
                    *mine = signed_headers(key, key_len, seq++);
                    curl_easy_setopt(e, CURLOPT_HTTPHEADER, *mine);
                }
                curl_multi_add_handle(multi, e);
                started++;
                running_handles++;
            }
        }
        if (t >= deadline) {
            /* Abandon whatever is still in flight: time is up. */
            t_end = deadline;
            break;
        }
        if (running_handles == 0) {
            t_end = t;
            break;
        }
        mc = curl_multi_poll(multi, NULL, 0, 100, NULL);
        if (mc != CURLM_OK) {
            fprintf(stderr, "curl_sender: curl_multi_poll: %s\n", curl_multi_strerror(mc));
            return 2;
        }
    }
    if (t_end == 0)
        t_end = now_s();

    double elapsed = t_end - t0;
    double cpu = cpu_s() - cpu0;
    printf("ok=%lld failed=%lld elapsed_s=%.3f req_per_s=%.1f concurrency=%ld body_bytes=%zu "
           "signed=%d cpu_s=%.3f cpu_us_per_req=%.1f\n",
           ok, failed, elapsed, (double)ok / elapsed, concurrency, sizeof(body) - 1, sign ? 1 : 0,
           cpu, ok > 0 ? cpu * 1e6 / (double)ok : 0.0);
    if (failed > 0) {
        fprintf(stderr,
                "curl_sender: %lld failed transfers (transport %lld, 1xx %lld, 3xx %lld, 4xx "
                "%lld, 5xx %lld); first transport error: %s\n",
                failed, fail_by_code[0], fail_by_code[1], fail_by_code[3], fail_by_code[4],
                fail_by_code[5], curl_easy_strerror(first_err));
    }

    for (long i = 0; i < concurrency; i++) {
        curl_multi_remove_handle(multi, easy[i]);
        curl_easy_cleanup(easy[i]);
        curl_slist_free_all(own[i]);
    }
    free(own);
    free(easy);
    curl_slist_free_all(headers);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return failed > 0 ? 1 : 0;
}
