/* request - see request.h. SPDX-License-Identifier: MIT */
#include "deliver/request.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/signature.h"
#include "util/clock.h"
#include "util/utf8.h"

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct request *r = ud;
    size_t n = size * nmemb;
    r->body_seen += n;
    if (r->body_seen > REQUEST_DRAIN_MAX) {
        r->body_truncated = r->body_cut = true;
        return 0; /* CURLE_WRITE_ERROR: request_finish knows it was us */
    }
    size_t room = REQUEST_BODY_MAX - r->body_len;
    size_t take = n < room ? n : room;
    memcpy(r->body + r->body_len, ptr, take);
    r->body_len += take;
    if (take < n)
        r->body_truncated = true;
    return n; /* keep reading so the connection stays reusable */
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    struct request *r = ud;
    size_t n = size * nitems;
    if (n >= 12 && strncasecmp(buf, "retry-after:", 12) == 0) {
        const char *v = buf + 12;
        size_t vl = n - 12;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl < sizeof(r->retry_after)) {
            memcpy(r->retry_after, v, vl);
            r->retry_after[vl] = '\0';
        }
    }
    if (strncmp(buf, "HTTP/", 5) == 0) { /* a new response (e.g. after 100): start over */
        r->resp_headers_len = 0;
        return n;
    }
    if (n > 2 && r->resp_headers_len + n <= REQUEST_HEADERS_MAX) {
        memcpy(r->resp_headers + r->resp_headers_len, buf, n);
        r->resp_headers_len += n;
    }
    return n;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *value)
{
    char line[9000];
    size_t nl = strlen(name), vl = strlen(value);
    if (nl + vl + 3 > sizeof(line)) /* custom headers are validated far below this */
        return l;
    /* curl drops "Name:" (it means "remove"); "Name;" sends an empty value.
     * memcpy, not snprintf: a dozen headers per attempt. */
    memcpy(line, name, nl);
    if (vl) {
        memcpy(line + nl, ": ", 2);
        memcpy(line + nl + 2, value, vl + 1);
    } else {
        memcpy(line + nl, ";", 2);
    }
    struct curl_slist *n = curl_slist_append(l, line);
    if (!n)
        abort();
    return n;
}

/* Custom headers: the message's own, then the endpoint's unless overridden. */
static struct curl_slist *add_custom_headers(struct curl_slist *l, const char *msg_json,
                                             const char *ep_json)
{
    json_t *msg = msg_json ? json_loads(msg_json, 0, NULL) : NULL;
    json_t *ep = ep_json ? json_loads(ep_json, 0, NULL) : NULL;
    const char *k;
    json_t *v;
    json_object_foreach(msg, k, v)
    {
        if (json_is_string(v))
            l = add_header(l, k, json_string_value(v));
    }
    json_object_foreach(ep, k, v)
    {
        bool overridden = false;
        const char *mk;
        json_t *mv;
        json_object_foreach(msg, mk, mv)
        {
            if (strcasecmp(mk, k) == 0)
                overridden = true;
        }
        if (!overridden && json_is_string(v))
            l = add_header(l, k, json_string_value(v));
    }
    json_decref(msg);
    json_decref(ep);
    return l;
}

void request_target_prepare(struct request_target *t)
{
    t->n_signers = t->n_scheme_keys = 0;
    t->general_headers =
        (t->pol && t->pol->custom_headers) ||
        (t->server_prefix && strcmp(t->server_prefix, SIGNATURE_SCHEME_DEFAULT_PREFIX));
    bool standard = !t->pol || t->pol->scheme == SIGNATURE_SCHEME_STANDARD;
    for (int i = 0; i < t->n_keys; i++) {
        if (!t->general_headers) {
            if (signature_key_init(&t->signers[t->n_signers], t->keys[i].secret) == ERR_OK)
                t->signer_expires_ms[t->n_signers++] = t->keys[i].expires_at_ms;
        } else if (standard && signature_scheme_key_init(&t->scheme_keys[t->n_scheme_keys],
                                                         SIGNATURE_SCHEME_STANDARD,
                                                         t->keys[i].secret) == ERR_OK) {
            t->scheme_key_expires_ms[t->n_scheme_keys++] = t->keys[i].expires_at_ms;
        }
    }
}

void request_target_clear_keys(struct request_target *t)
{
    for (int i = 0; i < t->n_signers; i++)
        signature_key_release(&t->signers[i]);
    for (int i = 0; i < t->n_scheme_keys; i++)
        signature_scheme_key_release(&t->scheme_keys[i]);
    t->n_signers = t->n_scheme_keys = 0;
    explicit_bzero(t->keys, sizeof(t->keys));
    t->n_keys = 0;
}

/* The id and signature headers of the general path (a policy's scheme,
 * header prefix or svix-* family, or a server-wide prefix). */
static struct curl_slist *add_scheme_headers(struct curl_slist *h, struct request *r,
                                             const struct request_target *t, const char *webhook_id,
                                             const char *payload, size_t payload_len)
{
    const struct delivery_policy *p = t->pol;
    struct signature_scheme_cfg cfg = {.scheme = !t->hmac_enabled ? SIGNATURE_SCHEME_NONE
                                                 : p              ? p->scheme
                                                                  : SIGNATURE_SCHEME_STANDARD,
                                       .header_prefix = p && p->header_prefix[0] ? p->header_prefix
                                                                                 : t->server_prefix,
                                       .svix_headers = p && p->svix_headers};
    const struct signature_scheme_key *keys[SIGNATURE_SCHEME_MAX_KEYS];
    size_t n = 0;
    if (cfg.scheme == SIGNATURE_SCHEME_STANDARD) {
        for (int i = 0; i < t->n_scheme_keys && n < SIGNATURE_SCHEME_MAX_KEYS; i++)
            if (!t->scheme_key_expires_ms[i] || r->started_at_ms < t->scheme_key_expires_ms[i])
                keys[n++] = &t->scheme_keys[i];
    } else if (cfg.scheme != SIGNATURE_SCHEME_NONE && p->has_scheme_key) {
        keys[n++] = &p->scheme_key;
    }
    if (!n && cfg.scheme != SIGNATURE_SCHEME_NONE)
        cfg.scheme = SIGNATURE_SCHEME_NONE; /* no usable key: ids only, as unsigned endpoints */
    struct signature_scheme_header_list *list = malloc(sizeof(*list));
    if (!list)
        abort();
    if (signature_scheme_headers(list, &cfg, keys, n, webhook_id, r->started_at_ms, payload,
                                 payload_len) != ERR_OK)
        snprintf(r->preflight_error, sizeof(r->preflight_error),
                 "cannot sign the delivery with the %s scheme", signature_scheme_name(cfg.scheme));
    else
        for (size_t i = 0; i < list->n; i++)
            h = add_header(h, list->h[i].name, list->h[i].value);
    explicit_bzero(list, sizeof(*list));
    free(list);
    return h;
}

/* The destination auth's header, or the URL to request instead (api_key in
 * the query); an error is a preflight error. */
static struct curl_slist *add_auth(struct curl_slist *h, struct request *r,
                                   const struct request_target *t, const char *payload,
                                   size_t payload_len, const char *access_token)
{
    struct dest_auth_result res = {0};
    struct err_detail d = {0};
    if (dest_auth_apply(&t->pol->auth, t->url, payload, payload_len, access_token, &res, &d) !=
        ERR_OK) {
        snprintf(r->preflight_error, sizeof(r->preflight_error), "destination auth: %s", d.msg);
    } else {
        if (res.header_name)
            h = add_header(h, res.header_name, res.header_value);
        if (res.url)
            curl_easy_setopt(r->easy, CURLOPT_URL, res.url); /* curl copies it */
    }
    dest_auth_result_clear(&res);
    return h;
}

bool request_ready(const struct request *r)
{
    return r->preflight_error[0] == '\0';
}

void request_setup(struct request *r, const struct request_target *t, const char *webhook_id,
                   const char *payload, size_t payload_len, const char *content_type,
                   const char *msg_headers_json, const char *user_agent, int64_t timeout_ms,
                   bool allow_private, const char *access_token)
{
    r->headers = NULL;
    r->preflight_error[0] = '\0';
    r->body_len = r->resp_headers_len = 0;
    r->body_truncated = r->guard.blocked = r->body_cut = false;
    r->body_seen = 0;
    r->retry_after[0] = r->errbuf[0] = '\0';
    r->guard.allow_private = allow_private;
    r->started_at_ms = clock_now_ms();

    struct curl_slist *h = NULL;
    h = add_header(h, "Content-Type", content_type ? content_type : "application/json");
    h = add_header(h, "User-Agent", user_agent);
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    h = curl_slist_append(h, "Accept:");
    h = add_custom_headers(h, msg_headers_json, t->headers_json);
    CURL *c = r->easy;
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    if (t->general_headers) {
        h = add_scheme_headers(h, r, t, webhook_id, payload, payload_len);
    } else if (t->hmac_enabled && t->n_signers > 0) {
        int64_t ts = r->started_at_ms / 1000;
        char ts_s[24], sw[SIGNATURE_ENTRY_MAX * STORE_MAX_ACTIVE_KEYS + 8] = "";
        char hb[SIGNATURE_ENTRY_MAX * STORE_MAX_ACTIVE_KEYS + 8] = "";
        snprintf(ts_s, sizeof(ts_s), "%lld", (long long)ts);
        for (int i = 0; i < t->n_signers; i++) {
            char e1[SIGNATURE_ENTRY_MAX], e2[SIGNATURE_ENTRY_MAX];
            if (t->signer_expires_ms[i] && r->started_at_ms >= t->signer_expires_ms[i])
                continue; /* rotated away and past its overlap (the cache may be older) */
            if (signature_key_v1(&t->signers[i], e1, sizeof(e1), webhook_id, ts, payload,
                                 payload_len) == ERR_OK) {
                if (sw[0])
                    strcat(sw, " ");
                strcat(sw, e1);
            }
            if (signature_key_hookbridge(&t->signers[i], e2, sizeof(e2), ts, payload,
                                         payload_len) == ERR_OK) {
                if (hb[0])
                    strcat(hb, ",");
                strcat(hb, e2);
            }
        }
        h = add_header(h, "webhook-id", webhook_id);
        h = add_header(h, "webhook-timestamp", ts_s);
        h = add_header(h, "webhook-signature", sw);
        h = add_header(h, "X-Webhook-Id", webhook_id);
        h = add_header(h, "X-Webhook-Timestamp", ts_s);
        h = add_header(h, "X-Webhook-Signature", hb);
    } else {
        /* Unsigned endpoints still get the ids receivers dedupe on. */
        h = add_header(h, "webhook-id", webhook_id);
        h = add_header(h, "X-Webhook-Id", webhook_id);
    }
    if (t->pol && t->pol->auth.type != DEST_AUTH_NONE)
        h = add_auth(h, r, t, payload, payload_len, access_token);
    r->headers = h;
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, t->pol ? t->pol->method : NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)payload_len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 10000 ? timeout_ms : 10000));
}

bool request_init(struct request *r)
{
    CURL *c = r->easy = curl_easy_init();
    if (!c)
        return false;
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* Always connect directly: a proxy from the environment would be what the
     * address policy checks instead of the receiver (and looking the variables
     * up cost five getenv calls per attempt). */
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    addr_guard_install(c, &r->guard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    /* Verify against the CA bundle file alone: with a CA directory as well
     * (Debian's libcurl default) curl does not cache the parsed store, and
     * every TLS handshake re-read and re-parsed ~150 PEM certificates, tens
     * of milliseconds of its delivery thread each. */
    curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    return true;
}

static int64_t us_to_ms(curl_off_t us)
{
    return us < 0 ? -1 : (int64_t)(us / 1000);
}

/* s[0..len) as the inside of a JSON string into out (room for 6 bytes per
 * input byte): quotes, backslashes and control bytes escaped, bytes that are
 * not well-formed UTF-8 replaced by U+FFFD; lower-cased ASCII with lower. */
static size_t json_text(char *out, const char *s, size_t len, bool lower)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t k = utf8_seq_len(s + i, len - i);
            if (k == 0) {
                memcpy(out + o, "\\ufffd", 6);
                o += 6;
                i++;
            } else {
                memcpy(out + o, s + i, k);
                o += k;
                i += k;
            }
            continue;
        }
        if (lower && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = hex[c >> 4];
            out[o + 5] = hex[c & 0xf];
            o += 6;
        } else {
            out[o++] = (char)c;
        }
        i++;
    }
    return o;
}

#define RESPONSE_HEADERS_MAX_LINES 128

/* Response headers as a JSON object of lower-case names (the last value of a
 * repeated name wins), built by hand: jansson's tree and dump cost more than
 * the rest of recording an attempt. NULL when there are none. */
static char *headers_to_json(const char *raw, size_t len)
{
    struct {
        const char *name, *value;
        size_t name_len, value_len;
    } h[RESPONSE_HEADERS_MAX_LINES];
    int n = 0;
    for (const char *p = raw, *end = raw + len; p < end && n < RESPONSE_HEADERS_MAX_LINES;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon && colon > p) {
            const char *v = colon + 1, *ve = le;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            h[n].name = p;
            h[n].name_len = utf8_prefix_len(p, (size_t)(colon - p), 127);
            h[n].value = v;
            h[n].value_len = (size_t)(ve - v);
            n++;
        }
        p = le + 1;
    }
    if (n == 0)
        return NULL;
    char *out = malloc(6 * len + 8);
    if (!out)
        abort();
    size_t o = 0;
    out[o++] = '{';
    for (int i = 0; i < n; i++) {
        bool repeated = false; /* a later line of the same name wins */
        for (int k = i + 1; k < n && !repeated; k++)
            repeated = h[k].name_len == h[i].name_len &&
                       strncasecmp(h[k].name, h[i].name, h[i].name_len) == 0;
        if (repeated)
            continue;
        if (o > 1)
            out[o++] = ',';
        out[o++] = '"';
        o += json_text(out + o, h[i].name, h[i].name_len, true);
        memcpy(out + o, "\":\"", 3);
        o += 3;
        o += json_text(out + o, h[i].value, h[i].value_len, false);
        out[o++] = '"';
    }
    out[o++] = '}';
    out[o] = '\0';
    return out;
}

bool request_finish(struct request *r, CURLcode result, struct store_attempt *a)
{
    CURL *c = r->easy;
    if (r->preflight_error[0]) { /* no request went out: nothing of curl's to read */
        a->created_at_ms = r->started_at_ms;
        a->latency_ms = 0;
        a->response_status = 0;
        a->dns_ms = a->tcp_connect_ms = a->tls_handshake_ms = a->ttfb_ms = a->transfer_ms = -1;
        a->error_text = strdup(r->preflight_error);
        if (!a->error_text)
            abort();
        return false;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_off_t total = 0, dns = -1, conn = -1, app = -1, pre = -1, start = -1;
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(c, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &conn);
    curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &app);
    curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pre);
    curl_easy_getinfo(c, CURLINFO_STARTTRANSFER_TIME_T, &start);
    long nconnects = 0;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nconnects);
    char *ip = NULL;
    curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip);

    a->created_at_ms = r->started_at_ms;
    a->latency_ms = us_to_ms(total);
    if (result == CURLE_WRITE_ERROR && r->body_cut)
        result = CURLE_OK; /* the answer was complete enough: status and headers are in */
    a->response_status = result == CURLE_OK ? (int)code : 0;
    a->conn_reused = result == CURLE_OK && nconnects == 0;
    snprintf(a->resolved_ip, sizeof(a->resolved_ip), "%s", ip ? ip : "");
    a->dns_ms = us_to_ms(dns);
    a->tcp_connect_ms = conn > 0 && dns >= 0 ? us_to_ms(conn - dns) : -1;
    a->tls_handshake_ms = app > 0 && conn >= 0 ? us_to_ms(app - conn) : -1;
    a->ttfb_ms = start > 0 && pre >= 0 ? us_to_ms(start - pre) : -1;
    a->transfer_ms = start > 0 ? us_to_ms(total - start) : -1;
    if (r->body_len) {
        a->response_body = strndup(r->body, r->body_len);
        if (!a->response_body)
            abort();
    }
    a->response_body_truncated = r->body_truncated;
    a->response_headers_json = headers_to_json(r->resp_headers, r->resp_headers_len);

    bool ok = result == CURLE_OK && code >= 200 && code < 300;
    if (!ok) {
        char msg[512];
        if (result == CURLE_OK)
            snprintf(msg, sizeof(msg), "receiver answered HTTP %ld", code);
        else if (r->guard.blocked)
            snprintf(msg, sizeof(msg),
                     "connection to a non-public address was refused by the address policy "
                     "(see --allow-private-networks)");
        else
            snprintf(msg, sizeof(msg), "%s%s%s", curl_easy_strerror(result),
                     r->errbuf[0] ? ": " : "", r->errbuf);
        a->error_text = strdup(msg);
        if (!a->error_text)
            abort();
    }
    return ok;
}

void request_release(struct request *r)
{
    curl_slist_free_all(r->headers);
    r->headers = NULL;
}

enum err request_target_load(struct request_target *t, struct delivery_policy **pol,
                             struct store *s, struct store_endpoint *ep, const char *server_prefix,
                             int64_t now_ms, struct err_detail *d, struct err_detail *policy_error)
{
    *pol = NULL;
    policy_error->msg[0] = '\0';
    enum err e = store_signing_keys_active(s, ep->id, now_ms, t->keys, &t->n_keys, d);
    if (e != ERR_OK) {
        request_target_clear_keys(t);
        return e;
    }
    char *auth = NULL, *scheme = NULL;
    enum err pe = ERR_OK;
    if (delivery_policy_wants_secrets(ep->policy_json))
        pe = store_endpoint_secrets_get(s, ep->id, &auth, &scheme, policy_error);
    if (pe == ERR_OK)
        pe = delivery_policy_load(pol, ep->policy_json, auth, scheme, policy_error);
    store_endpoint_secret_free(auth);
    store_endpoint_secret_free(scheme);
    if (pe == ERR_OK)
        policy_error->msg[0] = '\0';
    t->pol = *pol;
    t->server_prefix = server_prefix;
    request_target_prepare(t);
    t->url = ep->url;
    t->headers_json = ep->headers_json;
    t->hmac_enabled = ep->hmac_enabled;
    ep->url = ep->headers_json = NULL;
    return ERR_OK;
}

void request_target_release(struct request_target *t)
{
    free(t->url);
    free(t->headers_json);
    request_target_clear_keys(t);
    memset(t, 0, sizeof(*t));
}

/* The name of the header t's destination auth adds, or NULL (none, or in the query). */
static const char *auth_header_name(const struct request_target *t)
{
    if (!t->pol)
        return NULL;
    const struct dest_auth *a = &t->pol->auth;
    switch (a->type) {
    case DEST_AUTH_BEARER:
    case DEST_AUTH_BASIC:
    case DEST_AUTH_OAUTH2_CC:
        return "Authorization";
    case DEST_AUTH_API_KEY:
        return a->to_query ? NULL : a->name;
    case DEST_AUTH_CUSTOM_HMAC:
        return a->name;
    case DEST_AUTH_NONE:
        break;
    }
    return NULL;
}

static bool has_key(json_t *obj, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcasecmp(k, name) == 0)
            return true;
    }
    return false;
}

void request_each_sent_header(const struct request *r, const struct request_target *t,
                              const char *msg_headers_json,
                              void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
    json_t *msg = msg_headers_json ? json_loads(msg_headers_json, 0, NULL) : NULL;
    json_t *ep = t->headers_json ? json_loads(t->headers_json, 0, NULL) : NULL;
    const char *auth = auth_header_name(t);
    for (const struct curl_slist *l = r->headers; l; l = l->next) {
        const char *line = l->data;
        const char *sep = strpbrk(line, ":;");
        if (!sep || sep == line || (*sep == ':' && sep[1] == '\0'))
            continue; /* "Expect:" and "Accept:" remove curl's own */
        char name[DEST_AUTH_NAME_MAX + 64];
        size_t nl = (size_t)(sep - line);
        if (nl >= sizeof(name))
            continue; /* longer than any name hookd sends */
        memcpy(name, line, nl);
        name[nl] = '\0';
        const char *value = *sep == ';' ? "" : sep + 1;
        while (*value == ' ')
            value++;
        if (!strcasecmp(name, "Content-Type") || !strcasecmp(name, "User-Agent"))
            continue;
        if (auth && !strcasecmp(name, auth))
            fn(ctx, name, NULL);
        else if (!has_key(msg, name) && !has_key(ep, name))
            fn(ctx, name, value);
    }
    json_decref(msg);
    json_decref(ep);
}
