/*
 * keyfile - where the key of secrets at rest comes from; see keyfile.h.
 *
 * Key files are read whole (a key file is tiny; anything over 4 KiB is
 * refused) and written with O_CREAT|O_EXCL at mode 0600, then fsync'd along
 * with their directory, so a crash never leaves a store whose key was not
 * durably written. Every buffer that held key bytes or key text is wiped.
 * SPDX-License-Identifier: MIT
 */
#include "store/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/secretbox.h"
#include "store/store.h"
#include "util/log.h"

#define PATH_MAX_LEN 1200
#define FILE_MAX 4096

enum err keyfile_read(const char *path, uint8_t key[32], struct err_detail *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(d, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "INTERNAL_ERROR",
                       "cannot read encryption key file '%s': %s", path, strerror(errno));
    char buf[FILE_MAX + 1];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
        len += (size_t)n;
    close(fd);
    enum err e;
    if (len > FILE_MAX) {
        e = err_set(d, ERR_INVAL, "INVALID_KEY", "encryption key file '%s' is too long", path);
    } else {
        struct err_detail why = {0};
        e = secretbox_key_parse(buf, len, key, &why);
        if (e != ERR_OK)
            err_set(d, e, "INVALID_KEY", "encryption key file '%s': %s", path, why.msg);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return e;
}

/* fsync the directory holding path, so a new or renamed entry is durable. */
static void sync_dir_of(const char *path)
{
    char dir[PATH_MAX_LEN];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

enum err keyfile_write(const char *path, const uint8_t key[32], struct err_detail *d)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(d, errno == EEXIST ? ERR_CONFLICT : ERR_IO, "INTERNAL_ERROR",
                       "cannot create encryption key file '%s': %s", path, strerror(errno));
    char text[2 * 32 + 2];
    secretbox_key_hex(key, text);
    text[64] = '\n';
    text[65] = '\0';
    bool ok = fchmod(fd, 0600) == 0 && write(fd, text, 65) == 65 && fsync(fd) == 0;
    int saved = errno;
    OPENSSL_cleanse(text, sizeof(text));
    close(fd);
    if (!ok) {
        unlink(path);
        return err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot write encryption key file '%s': %s",
                       path, strerror(saved));
    }
    sync_dir_of(path);
    return ERR_OK;
}

/* Where the key came from, for messages. */
enum source { SRC_NONE, SRC_FILE, SRC_ENV, SRC_DEFAULT };

/*
 * Find the key (see keyfile.h): *src says where it came from (SRC_NONE when
 * nowhere), path the file it was read from (SRC_FILE, SRC_DEFAULT). Reading
 * HOOKD_ENCRYPTION_KEY wipes it from the environment.
 */
static enum err find_key(const char *data_dir, const char *key_file, uint8_t key[32],
                         enum source *src, char path[PATH_MAX_LEN], struct err_detail *d)
{
    *src = SRC_NONE;
    char *env = getenv(KEYFILE_ENV);
    bool have_env = env && env[0];
    bool have_file = key_file && key_file[0];
    if (have_env && have_file)
        return err_set(d, ERR_INVAL, "INVALID_KEY",
                       "give the encryption key once: --encryption-key-file (or "
                       "HOOKD_ENCRYPTION_KEY_FILE) or " KEYFILE_ENV ", not both");
    if (have_file) {
        snprintf(path, PATH_MAX_LEN, "%s", key_file);
        *src = SRC_FILE;
        return keyfile_read(path, key, d);
    }
    if (have_env) {
        struct err_detail why = {0};
        enum err e = secretbox_key_parse(env, strlen(env), key, &why);
        OPENSSL_cleanse(env, strlen(env));
        unsetenv(KEYFILE_ENV);
        if (e != ERR_OK)
            return err_set(d, e, "INVALID_KEY", KEYFILE_ENV ": %s", why.msg);
        snprintf(path, PATH_MAX_LEN, "%s", KEYFILE_ENV);
        *src = SRC_ENV;
        return ERR_OK;
    }
    snprintf(path, PATH_MAX_LEN, "%s/" KEYFILE_DEFAULT_NAME, data_dir);
    enum err e = keyfile_read(path, key, d);
    if (e == ERR_NOTFOUND)
        return ERR_OK;
    if (e == ERR_OK)
        *src = SRC_DEFAULT;
    return e;
}

/* The key id recorded in the store of data_dir ("" when none), opening it without a
 * key (schema migrations applied). */
static enum err recorded_key_id(const char *db, char kid[STORE_SECRET_KEY_ID_SIZE],
                                struct err_detail *d)
{
    store_secrets_set_key(NULL);
    struct store *s = NULL;
    enum err e = store_open(&s, db, true, d);
    if (e == ERR_OK)
        e = store_secrets_key_id(s, kid, d);
    store_close(s);
    return e;
}

/* Open the store db names with the process key and migrations, then close it. */
static enum err check_store(const char *db, struct err_detail *d)
{
    struct store *s = NULL;
    enum err e = store_open(&s, db, true, d);
    store_close(s);
    return e;
}

/* Log what to do about a store whose key is missing or wrong. */
static void log_key_hint(const char *data_dir)
{
    log_error("main",
              "start hookd with the key the store's secrets were encrypted with: "
              "--encryption-key-file FILE, " KEYFILE_ENV "=<key>, or the file "
              "'%s/" KEYFILE_DEFAULT_NAME "'; without it the endpoints' signing secrets "
              "cannot be recovered",
              data_dir);
    char pending[PATH_MAX_LEN];
    snprintf(pending, sizeof(pending), "%s/" KEYFILE_DEFAULT_NAME ".new", data_dir);
    if (access(pending, F_OK) == 0)
        log_error("main",
                  "'%s' exists: a key rotation may have been interrupted; run "
                  "hookd encryption rotate --data '%s' again to finish it",
                  pending, data_dir);
}

enum err keyfile_setup(const char *data_dir, const char *db, const char *key_file,
                       struct err_detail *d)
{
    uint8_t key[32];
    char path[PATH_MAX_LEN], kid[STORE_SECRET_KEY_ID_SIZE];
    enum source src;
    enum err e = find_key(data_dir, key_file, key, &src, path, d);
    if (e == ERR_OK && src == SRC_NONE) {
        if ((e = recorded_key_id(db, kid, d)) != ERR_OK)
            goto out;
        if (kid[0]) {
            e = err_set(d, ERR_NOTFOUND, "ENCRYPTION_KEY_MISSING",
                        "the store's secrets are encrypted (key id %s) but no encryption key "
                        "was given and '%s' does not exist",
                        kid, path);
            log_key_hint(data_dir);
            goto out;
        }
        if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) { /* PostgreSQL: nothing made it */
            e = err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot create data directory '%s': %s",
                        data_dir, strerror(errno));
            goto out;
        }
        if ((e = secretbox_key_generate(key, d)) != ERR_OK ||
            (e = keyfile_write(path, key, d)) != ERR_OK)
            goto out;
        log_write(LOG_WARN, "main", NULL,
                  "created the encryption key file '%s' (mode 0600) for secrets at rest; "
                  "back it up apart from the database: without it the signing secrets are lost",
                  path);
    }
    if (e != ERR_OK)
        goto out;
    store_secrets_set_key(key);
    e = check_store(db, d);
    if (e == ERR_CONFLICT)
        log_key_hint(data_dir);
out:
    OPENSSL_cleanse(key, sizeof(key));
    return e;
}

/* The new key of a rotation and the file it lives in (see keyfile.h). */
static enum err new_key(const char *data_dir, const char *new_key_file, enum source old_src,
                        uint8_t key[32], char path[PATH_MAX_LEN], bool *created,
                        struct err_detail *d)
{
    *created = false;
    if (new_key_file && new_key_file[0])
        snprintf(path, PATH_MAX_LEN, "%s", new_key_file);
    else if (old_src == SRC_DEFAULT)
        snprintf(path, PATH_MAX_LEN, "%s/" KEYFILE_DEFAULT_NAME ".new", data_dir);
    else
        return err_set(d, ERR_INVAL, "INVALID_KEY",
                       "give --new-key-file FILE: the new key is read from it, or generated "
                       "into it when it does not exist");
    enum err e = keyfile_read(path, key, d);
    if (e != ERR_NOTFOUND)
        return e;
    if ((e = secretbox_key_generate(key, d)) != ERR_OK ||
        (e = keyfile_write(path, key, d)) != ERR_OK)
        return e;
    *created = true;
    return ERR_OK;
}

enum err keyfile_rotate(const char *data_dir, const char *db, const char *key_file,
                        const char *new_key_file, FILE *out, struct err_detail *d)
{
    uint8_t old[32], fresh[32];
    char old_path[PATH_MAX_LEN], new_path[PATH_MAX_LEN];
    char kid_db[STORE_SECRET_KEY_ID_SIZE] = "", kid_old[STORE_SECRET_KEY_ID_SIZE] = "",
         kid_new[STORE_SECRET_KEY_ID_SIZE] = "";
    enum source src;
    bool created = false;
    struct store *s = NULL;
    enum err e = find_key(data_dir, key_file, old, &src, old_path, d);
    if (e == ERR_OK && src == SRC_NONE)
        e = err_set(d, ERR_NOTFOUND, "ENCRYPTION_KEY_MISSING",
                    "no current encryption key: give --encryption-key-file or " KEYFILE_ENV
                    ", or restore '%s'",
                    old_path);
    if (e == ERR_OK)
        e = recorded_key_id(db, kid_db, d);
    if (e == ERR_OK && !kid_db[0])
        e = err_set(d, ERR_NOTFOUND, "ENCRYPTION_KEY_MISSING",
                    "the store in '%s' has no encrypted secrets yet: nothing to rotate", data_dir);
    if (e == ERR_OK)
        e = new_key(data_dir, new_key_file, src, fresh, new_path, &created, d);
    if (e != ERR_OK)
        goto out;
    secretbox_key_id(old, kid_old);
    secretbox_key_id(fresh, kid_new);
    if (!strcmp(kid_old, kid_new)) {
        e = err_set(d, ERR_INVAL, "INVALID_KEY", "the new key is the current key");
        goto out;
    }
    if (strcmp(kid_db, kid_new) != 0) { /* else: an interrupted rotation committed already */
        store_secrets_set_key(old);
        int64_t n = 0;
        if ((e = store_open(&s, db, true, d)) != ERR_OK ||
            (e = store_secrets_rotate(s, fresh, &n, d)) != ERR_OK)
            goto out;
        fprintf(out, "re-encrypted %lld secrets: key %s -> %s\n", (long long)n, kid_old, kid_new);
    } else {
        fprintf(out, "the store is already encrypted with key %s\n", kid_new);
    }
    if (src == SRC_DEFAULT && !(new_key_file && new_key_file[0])) {
        if (rename(new_path, old_path) != 0) {
            e = err_set(d, ERR_IO, "INTERNAL_ERROR", "cannot rename '%s' to '%s': %s", new_path,
                        old_path, strerror(errno));
            goto out;
        }
        sync_dir_of(old_path);
        fprintf(out, "the new key replaced '%s'; back it up\n", old_path);
    } else {
        fprintf(out,
                "the new key is in '%s'%s; start hookd with --encryption-key-file '%s' "
                "(or put its text in " KEYFILE_ENV ") and back it up\n",
                new_path, created ? " (generated, mode 0600)" : "", new_path);
    }
out:
    store_close(s);
    store_secrets_set_key(NULL);
    /* A generated new key file is kept even on failure: the next run uses it. */
    OPENSSL_cleanse(old, sizeof(old));
    OPENSSL_cleanse(fresh, sizeof(fresh));
    return e;
}
