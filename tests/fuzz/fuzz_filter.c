/*
 * fuzz_filter - libFuzzer harness for the endpoint filters (core/filter.c)
 * and the event-type patterns (core/event_match.c), the two pure modules of
 * the fan-out rule that take their input from API callers.
 *
 * Input format (text, one part per line; a missing line is empty):
 *   filter LF         JSON (jansson, any value); empty = no filter (NULL);
 *                     not JSON = the filter checks are skipped
 *   body LF           JSON payload; empty or not JSON = a payload that is
 *                     not JSON (NULL)
 *   headers LF        JSON object; its string members become the header set
 *                     (names lower-cased, as the caller does); empty or not
 *                     an object = NULL (no headers)
 *   pattern LF        an event-type pattern, byte for byte (cut at a NUL)
 *   name LF           an event-type name (cut at a NUL)
 *   channels LF       an endpoint's channels, split at ','; an empty item is
 *                     a NULL entry, an empty line no list (NULL, 0)
 *   channels          an event's channels, the same way, up to the next LF
 * JSON text cannot hold a raw LF inside a string, so one line holds any
 * JSON value.
 *
 * Checks, besides not crashing (and ASan/UBSan):
 * - filter_validate returns ERR_OK or ERR_INVAL; on ERR_INVAL the detail has
 *   code INVALID_FILTER and a non-empty NUL-terminated message; a filter it
 *   accepts is null or an object of only "body" and "headers" (an object or
 *   null);
 * - filter_match runs on every parsed filter, valid or not; headers NULL and
 *   {} give the same answer; null, {}, {"body":null,"headers":null} are
 *   valid and match every event;
 * - on small inputs (where no evaluation bound can be hit): {"$not": S}
 *   matches exactly when S does not, for each part S of the filter; and the
 *   event matches itself: {"body": B, "headers": H'} with B the body and H'
 *   the headers with upper-cased names (members starting with "$" left out)
 *   is valid and matches;
 * - event types: a valid name is a valid pattern that matches itself and
 *   only itself; a valid "name.*" matches exactly the longer names with its
 *   prefix; "*" matches everything; the validity checks agree with
 *   ^[a-zA-Z0-9\-_.]{1,256}$;
 * - channels: an endpoint with no (non-NULL) channel gets every event,
 *   otherwise only events that share a channel with it.
 *
 * Built with clang -fsanitize=fuzzer by `make fuzz`; with the normal compiler
 * (FUZZ_REPLAY) it replays the committed corpus (tests/fuzz/corpus/filter).
 * See docs/internals/fuzzing.md.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event_match.h"
#include "core/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JSON_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)
/* Below these sizes no evaluation bound (FILTER_MAX_STEPS, _EVAL_DEPTH) can be hit. */
#define SMALL_NODES 64
#define SMALL_DEPTH 48
#define SMALL_BYTES (FILTER_MAX_BYTES / 4)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_filter: check failed at line %d: %s\n", __LINE__, #cond);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct part {
    const char *p;
    size_t len;
};

/* Cut the next line off [*pos, size). */
static struct part next_line(const uint8_t *data, size_t size, size_t *pos)
{
    struct part r = {(const char *)data + *pos, 0};
    const uint8_t *lf = *pos < size ? memchr(data + *pos, '\n', size - *pos) : NULL;
    size_t end = lf ? (size_t)(lf - data) : size;
    r.len = end - *pos;
    *pos = lf ? end + 1 : size;
    return r;
}

static json_t *parse(struct part s)
{
    return s.len ? json_loadb(s.p, s.len, JSON_FLAGS, NULL) : NULL;
}

/* Values, nesting, bytes of keys and strings, and whether some key starts with "$". */
struct shape {
    size_t nodes, bytes;
    int depth;
    bool has_op_key;
};

static void measure(const json_t *v, int depth, struct shape *sh)
{
    sh->nodes++;
    if (depth > sh->depth)
        sh->depth = depth;
    if (json_is_string(v))
        sh->bytes += json_string_length(v);
    if (json_is_array(v)) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            measure(item, depth + 1, sh);
        }
    } else if (json_is_object(v)) {
        const char *key;
        size_t len;
        json_t *val;
        json_object_keylen_foreach((json_t *)v, key, len, val)
        {
            sh->bytes += len;
            if (len > 0 && key[0] == '$')
                sh->has_op_key = true;
            measure(val, depth + 1, sh);
        }
    }
}

static struct shape shape_of(const json_t *v)
{
    struct shape sh = {0, 0, 0, false};
    if (v)
        measure(v, 1, &sh);
    return sh;
}

static bool is_small(const struct shape *sh)
{
    return sh->nodes <= SMALL_NODES && sh->depth <= SMALL_DEPTH && sh->bytes <= SMALL_BYTES;
}

/* The header set as the caller builds it: string members, names lower-cased. */
static json_t *header_set(const json_t *doc)
{
    if (!json_is_object(doc))
        return NULL;
    json_t *h = json_object();
    const char *key;
    size_t len;
    json_t *val;
    json_object_keylen_foreach((json_t *)doc, key, len, val)
    {
        if (!json_is_string(val))
            continue;
        char *lower = malloc(len + 1);
        CHECK(lower);
        for (size_t i = 0; i < len; i++)
            lower[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] - 'A' + 'a') : key[i];
        lower[len] = '\0';
        CHECK(json_object_setn(h, lower, len, val) == 0);
        free(lower);
    }
    return h;
}

/* A filter schema naming every header of h with an upper-cased name; "$..." left out. */
static json_t *headers_schema(const json_t *h)
{
    json_t *s = json_object();
    const char *key;
    size_t len;
    json_t *val;
    json_object_keylen_foreach((json_t *)h, key, len, val)
    {
        if (len > 0 && key[0] == '$')
            continue;
        char *upper = malloc(len + 1);
        CHECK(upper);
        for (size_t i = 0; i < len; i++)
            upper[i] = (key[i] >= 'a' && key[i] <= 'z') ? (char)(key[i] - 'a' + 'A') : key[i];
        upper[len] = '\0';
        CHECK(json_object_setn(s, upper, len, val) == 0);
        free(upper);
    }
    return s;
}

/* {"<name>": part} (part borrowed). */
static json_t *one_part(const char *name, json_t *part)
{
    json_t *f = json_object();
    CHECK(json_object_set(f, name, part) == 0);
    return f;
}

/* {"<name>": {"$not": part}} (part borrowed). */
static json_t *negated_part(const char *name, json_t *part)
{
    json_t *n = json_object();
    CHECK(json_object_set(n, "$not", part) == 0);
    json_t *f = json_object();
    CHECK(json_object_set_new(f, name, n) == 0);
    return f;
}

static bool valid(const json_t *filter)
{
    struct err_detail d;
    enum err e = filter_validate(filter, &d);
    CHECK(e == ERR_OK || e == ERR_INVAL);
    return e == ERR_OK;
}

static void check_validate(const json_t *filter)
{
    struct err_detail d;
    memset(&d, 0xA5, sizeof(d));
    enum err e = filter_validate(filter, &d);
    CHECK(e == ERR_OK || e == ERR_INVAL);
    if (e == ERR_INVAL) {
        CHECK(memchr(d.msg, '\0', sizeof(d.msg)) != NULL);
        CHECK(d.msg[0] != '\0');
        CHECK(memchr(d.code, '\0', sizeof(d.code)) != NULL);
        CHECK(!strcmp(d.code, FILTER_ERR_CODE));
        /* The same answer without a detail to fill. */
        CHECK(filter_validate(filter, NULL) == ERR_INVAL);
        return;
    }
    CHECK(filter_validate(filter, NULL) == ERR_OK);
    if (!filter || json_is_null(filter))
        return;
    CHECK(json_is_object(filter));
    const char *key;
    json_t *part;
    json_object_foreach((json_t *)filter, key, part)
    {
        CHECK(!strcmp(key, "body") || !strcmp(key, "headers"));
        if (!strcmp(key, "headers"))
            CHECK(json_is_null(part) || json_is_object(part));
    }
}

/* Filters that let everything through. */
static void check_trivial_filters(const json_t *body, const json_t *headers)
{
    json_t *nul = json_null(), *empty = json_object();
    json_t *nulls = json_pack("{s:n,s:n}", "body", "headers");
    CHECK(nulls);
    CHECK(valid(NULL) && valid(nul) && valid(empty) && valid(nulls));
    CHECK(filter_match(NULL, body, headers));
    CHECK(filter_match(nul, body, headers));
    CHECK(filter_match(empty, body, headers));
    CHECK(filter_match(nulls, body, headers));
    json_decref(nulls);
    json_decref(empty);
}

/* For a small part S of the filter, {"$not": S} gives the opposite answer. */
static void check_negation(const char *name, json_t *part, const json_t *body,
                           const json_t *headers)
{
    if (!part || json_is_null(part))
        return; /* null is "no condition", {"$not": null} a real one */
    json_t *plain = one_part(name, part), *neg = negated_part(name, part);
    bool m = filter_match(plain, body, headers), n = filter_match(neg, body, headers);
    if (m == n) {
        char *s = json_dumps(part, JSON_ENCODE_ANY);
        fprintf(stderr, "fuzz_filter: %s part %s and its $not both %s\n", name, s ? s : "?",
                m ? "match" : "fail");
        abort();
    }
    json_decref(plain);
    json_decref(neg);
}

/* The event matches a filter made of itself. */
static void check_self_match(json_t *body, const struct shape *bsh, const json_t *headers)
{
    json_t *f = json_object();
    if (body && !bsh->has_op_key && is_small(bsh) && bsh->depth <= FILTER_MAX_DEPTH)
        CHECK(json_object_set(f, "body", body) == 0);
    struct shape hsh = shape_of(headers);
    if (headers && is_small(&hsh))
        CHECK(json_object_set_new(f, "headers", headers_schema(headers)) == 0);
    if (json_object_size(f) > 0) {
        struct err_detail d;
        if (filter_validate(f, &d) != ERR_OK) {
            fprintf(stderr, "fuzz_filter: the event as a filter is invalid: %s\n", d.msg);
            abort();
        }
        if (!filter_match(f, body, headers)) {
            char *s = json_dumps(f, JSON_ENCODE_ANY);
            fprintf(stderr, "fuzz_filter: the event does not match itself: %s\n", s ? s : "?");
            abort();
        }
    }
    json_decref(f);
}

static void check_filter(struct part fpart, struct part bpart, struct part hpart)
{
    json_t *filter = parse(fpart);
    if (fpart.len && !filter)
        return; /* not JSON */
    json_t *body = parse(bpart);
    json_t *hdoc = parse(hpart);
    json_t *headers = header_set(hdoc);
    json_decref(hdoc);

    check_validate(filter);
    bool m = filter_match(filter, body, headers);
    /* NULL headers are an empty set. */
    if (!headers) {
        json_t *empty = json_object();
        CHECK(filter_match(filter, body, empty) == m);
        json_decref(empty);
    }
    /* Unvalidated filters are evaluated the same way; the answer is stable. */
    CHECK(filter_match(filter, body, headers) == m);
    if (!filter || json_is_null(filter))
        CHECK(m);

    struct shape fsh = shape_of(filter), bsh = shape_of(body), hsh = shape_of(headers);
    if (json_is_object(filter) && is_small(&fsh) && is_small(&bsh) && is_small(&hsh)) {
        check_negation("body", json_object_get(filter, "body"), body, headers);
        check_negation("headers", json_object_get(filter, "headers"), body, headers);
    }
    check_trivial_filters(body, headers);
    check_self_match(body, &bsh, headers);

    json_decref(filter);
    json_decref(body);
    json_decref(headers);
}

/* A line as a C string, cut at its first NUL (the API takes C strings). */
static char *c_string(struct part s)
{
    const char *nul = memchr(s.p, '\0', s.len);
    size_t len = nul ? (size_t)(nul - s.p) : s.len;
    char *r = malloc(len + 1);
    CHECK(r);
    memcpy(r, s.p, len);
    r[len] = '\0';
    return r;
}

/* The reference for names: ^[a-zA-Z0-9\-_.]{1,256}$. */
static bool ref_name(const char *s, size_t len)
{
    if (len == 0 || len > EVENT_TYPE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static void check_pattern(const char *p, const char *t)
{
    size_t plen = strlen(p), tlen = strlen(t);
    bool pv = event_type_pattern_is_valid(p), nv = event_type_name_is_valid(p);
    bool m = event_type_pattern_matches(p, t);

    CHECK(nv == ref_name(p, plen));
    CHECK(event_type_name_is_valid(t) == ref_name(t, tlen));
    bool is_star = !strcmp(p, "*");
    /* "x.*" matches by prefix whether or not it is a valid pattern. */
    bool is_prefix = plen >= 3 && p[plen - 2] == '.' && p[plen - 1] == '*';
    CHECK(pv ==
          (nv || is_star || (is_prefix && plen <= EVENT_TYPE_NAME_MAX && ref_name(p, plen - 2))));
    /* NULL never matches and is never valid; "*" matches everything. */
    CHECK(!event_type_pattern_matches(NULL, t) && !event_type_pattern_matches(p, NULL));
    CHECK(!event_type_pattern_is_valid(NULL) && !event_type_name_is_valid(NULL));
    CHECK(event_type_pattern_matches("*", t));
    if (is_star) {
        CHECK(m);
    } else if (is_prefix) {
        size_t prefix = plen - 1; /* the name and its dot */
        CHECK(m == (tlen > prefix && !memcmp(t, p, prefix)));
        char *longer = malloc(prefix + 2);
        CHECK(longer);
        memcpy(longer, p, prefix);
        memcpy(longer + prefix, "x", 2);
        CHECK(event_type_pattern_matches(p, longer)); /* "order.*" matches "order.x" */
        longer[prefix] = '\0';
        CHECK(!event_type_pattern_matches(p, longer)); /* not "order." */
        longer[prefix - 1] = '\0';
        CHECK(!event_type_pattern_matches(p, longer)); /* nor "order" */
        free(longer);
    } else {
        /* Anything else, valid or not, matches only its own spelling. */
        CHECK(m == !strcmp(p, t));
        CHECK(event_type_pattern_matches(p, p));
    }
}

#define MAX_CHANNELS 16

/* Split a line at ','; empty items are NULL entries. Returns the count (0: an empty line). */
static size_t split_channels(char *line, char **out)
{
    size_t n = 0;
    if (!*line)
        return 0;
    for (char *p = line; n < MAX_CHANNELS;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        out[n++] = *p ? p : NULL;
        if (!comma)
            break;
        p = comma + 1;
    }
    return n;
}

static void check_channels(struct part ep_part, struct part ev_part)
{
    char *ep_line = c_string(ep_part), *ev_line = c_string(ev_part);
    char *ep[MAX_CHANNELS], *ev[MAX_CHANNELS];
    size_t n_ep = split_channels(ep_line, ep), n_ev = split_channels(ev_line, ev);
    const char *const *epc = n_ep ? (const char *const *)ep : NULL;
    const char *const *evc = n_ev ? (const char *const *)ev : NULL;

    bool has_channels = false, shared = false;
    for (size_t i = 0; i < n_ep; i++) {
        if (!ep[i])
            continue;
        has_channels = true;
        for (size_t j = 0; j < n_ev; j++)
            shared = shared || (ev[j] && !strcmp(ep[i], ev[j]));
    }
    bool m = event_channels_match(epc, n_ep, evc, n_ev);
    CHECK(m == (!has_channels || shared));
    /* Sharing a channel is symmetric. */
    if (has_channels && n_ev && m)
        CHECK(event_channels_match(evc, n_ev, epc, n_ep));
    /* No list and an empty list are the same. */
    CHECK(event_channels_match(NULL, 0, evc, n_ev));
    CHECK(event_channels_match(epc, n_ep, NULL, 0) == !has_channels);
    free(ep_line);
    free(ev_line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    struct part fpart = next_line(data, size, &pos);
    struct part bpart = next_line(data, size, &pos);
    struct part hpart = next_line(data, size, &pos);
    struct part ppart = next_line(data, size, &pos);
    struct part npart = next_line(data, size, &pos);
    struct part ep_part = next_line(data, size, &pos);
    struct part ev_part = next_line(data, size, &pos);

    check_filter(fpart, bpart, hpart);

    char *p = c_string(ppart), *t = c_string(npart);
    check_pattern(p, t);
    check_pattern(t, p);
    free(p);
    free(t);
    check_channels(ep_part, ev_part);
    return 0;
}

#ifdef FUZZ_REPLAY
int main(int argc, char **argv)
{
    static uint8_t buf[1024 * 1024];
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "cannot open %s\n", argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("replayed %d corpus files\n", argc - 1);
    return 0;
}
#endif
