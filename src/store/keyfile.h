/*
 * keyfile - the encryption key of secrets at rest: where it comes from, the
 * key file hookd creates on first start, start-up checks, offline rotation.
 *
 * Description: the key is 32 bytes whose text form (core/secretbox.h) is 64
 * hex characters or the base64 of the bytes. It comes from, in order:
 *   1. a key file named by --encryption-key-file / HOOKD_ENCRYPTION_KEY_FILE;
 *   2. the text in HOOKD_ENCRYPTION_KEY (wiped from the environment once read);
 *   3. <data>/encryption.key.
 * Giving both 1 and 2 is an error. When none exists and the store records no
 * key yet, keyfile_setup creates <data>/encryption.key (mode 0600, hex) and
 * logs so once; when the store's secrets are already encrypted, a missing key
 * is a start-up error that says what to restore, as is a wrong key.
 * Rotation (hookd encryption rotate) runs offline: it re-seals every secret
 * with a new key in one transaction (store_secrets_rotate). The new key is
 * read from --new-key-file, or generated into it when that file does not
 * exist; with the default key file and no --new-key-file it is generated into
 * <data>/encryption.key.new, which replaces encryption.key once the store
 * committed, and an interrupted rotation is finished by running it again.
 * Threading: start-up and offline commands only, before threads start (it
 * sets the process key and edits the environment).
 * Ownership: keys are copied and wiped; nothing is kept but the process key.
 * Errors: ERR_INVAL (bad key text, conflicting options), ERR_NOTFOUND (no
 * key where one is needed), ERR_CONFLICT (the key does not match the store),
 * ERR_IO (files), ERR_BUSY (the store is in use during rotation); the detail
 * says what to do.
 * See also: store/store_secrets.c, core/secretbox.h, docs/internals/secrets.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOOKD_STORE_KEYFILE_H
#define HOOKD_STORE_KEYFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

#define KEYFILE_DEFAULT_NAME "encryption.key"
#define KEYFILE_ENV "HOOKD_ENCRYPTION_KEY"

/* Read and parse the key in the file at path. */
enum err keyfile_read(const char *path, uint8_t key[32], struct err_detail *d);

/* Write key as hex and a newline to a new file at path (mode 0600, fsync'd,
 * with its directory). ERR_CONFLICT when the file already exists. */
enum err keyfile_write(const char *path, const uint8_t key[32], struct err_detail *d);

/* db is the store (store_open's string); data_dir holds the default key file.
 * Start-up of serve and migrate: find the key (key_file may be "" or NULL),
 * create <data_dir>/encryption.key when there is none and the store has no
 * encrypted secrets, set it as the process key, and open the store once with
 * migrations so that a wrong key is refused and plaintext secrets are sealed. */
enum err keyfile_setup(const char *data_dir, const char *db, const char *key_file,
                       struct err_detail *d);

/* hookd encryption rotate (the server must be stopped): see above. Prints
 * what it did to out; never prints a key. */
enum err keyfile_rotate(const char *data_dir, const char *db, const char *key_file,
                        const char *new_key_file, FILE *out, struct err_detail *d);

#endif
