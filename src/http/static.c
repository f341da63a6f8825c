/*
 * static - the built web pages (web/, built by `make web` into build/web/):
 * /portal/ and /console/ (index.html) and their hashed files under
 * /portal/assets/ and /console/assets/, read from --web-dir at each request
 * (empty: build/web beside the binary). index.html is answered no-cache,
 * assets (their names carry a content hash) a year, immutable. Only names of
 * [A-Za-z0-9._-] (not starting with '.') are looked up, so no path leaves
 * the directory. See docs/web.md.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http/internal.h"

#define STATIC_MAX_FILE (16 * 1024 * 1024)

static bool is_page(const char *s)
{
    return !strcmp(s, "portal") || !strcmp(s, "console");
}

static bool safe_name(const char *s)
{
    if (!*s || *s == '.')
        return false;
    for (; *s; s++)
        if (!strchr("._-", *s) && !(*s >= '0' && *s <= '9') && !(*s >= 'a' && *s <= 'z') &&
            !(*s >= 'A' && *s <= 'Z'))
            return false;
    return true;
}

bool http__static_owns(const struct http_request *r)
{
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        return false;
    if (r->nseg < 1 || r->nseg > 3 || !is_page(r->seg[0]))
        return false;
    if (r->nseg == 1)
        return true;
    if (r->nseg == 2)
        return !strcmp(r->seg[1], "index.html");
    return !strcmp(r->seg[1], "assets");
}

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "application/javascript; charset=utf-8"},
        {".mjs", "application/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (!strcmp(dot, types[i].ext))
                return types[i].type;
    return "application/octet-stream";
}

/* The web directory: --web-dir, or build/web beside the running binary. */
static bool web_root(struct http_request *r, char *out, size_t cap)
{
    const char *cfg = r->server->deps.cfg->web_dir;
    if (cfg[0]) {
        int n = snprintf(out, cap, "%s", cfg);
        return n > 0 && (size_t)n < cap;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return false;
    *slash = '\0';
    int m = snprintf(out, cap, "%s/build/web", exe);
    return m > 0 && (size_t)m < cap;
}

static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= STATIC_MAX_FILE) {
        size_t size = (size_t)st.st_size, got = 0;
        buf = malloc(size ? size : 1);
        while (buf && got < size) {
            ssize_t k = read(fd, buf + got, size - got);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                free(buf);
                buf = NULL;
                break;
            }
            got += (size_t)k;
        }
        *len = got;
    }
    close(fd);
    return buf;
}

void http__static(struct http_request *r)
{
    const char *page = r->seg[0];
    bool asset = r->nseg == 3;
    if (asset && !safe_name(r->seg[2])) {
        http__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no file %s", r->url);
        return;
    }
    char root[1024], path[1400];
    if (!web_root(r, root, sizeof(root))) {
        http__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no web directory");
        return;
    }
    int n = asset ? snprintf(path, sizeof(path), "%s/%s/assets/%s", root, page, r->seg[2])
                  : snprintf(path, sizeof(path), "%s/%s/index.html", root, page);
    size_t len = 0;
    char *body = n > 0 && (size_t)n < sizeof(path) ? read_file(path, &len) : NULL;
    if (!body) {
        if (asset)
            http__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no file %s", r->url);
        else
            http__respond_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND",
                                "the %s page is not built (run make web, or set --web-dir)", page);
        return;
    }
    const struct http_header h[] = {
        {MHD_HTTP_HEADER_CONTENT_TYPE,
         asset ? content_type(r->seg[2]) : "text/html; charset=utf-8"},
        {MHD_HTTP_HEADER_CACHE_CONTROL, asset ? "public, max-age=31536000, immutable" : "no-cache"},
        {"X-Content-Type-Options", "nosniff"},
        {"Content-Security-Policy",
         "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
         "frame-ancestors *; base-uri 'none'; form-action 'self'"},
        {"Referrer-Policy", "no-referrer"},
    };
    http__respond_take(r, MHD_HTTP_OK, body, len, h, sizeof(h) / sizeof(h[0]));
}
