/* wal_buffer - a SQLite VFS that gathers the writes to a WAL file into one.
 *
 * SQLite appends a commit to the WAL as two write() calls per page (the 24-byte
 * frame header, then the page), then syncs. With ~20 pages per group commit
 * that is ~40 system calls whose kernel cost (per call and per touched page
 * cache folio) was 3x that of one call writing the same bytes (bench note in
 * docs/internals/store.md). This VFS wraps another one (the default "unix") and,
 * for WAL files only, keeps contiguous writes in a buffer that goes to the file
 * in one pwrite before the file is synced, read, truncated, sized or closed.
 *
 * Correctness rests on SQLite syncing the WAL at every commit before it
 * publishes the new frames in the wal-index (synchronous=FULL, which hookd
 * always sets): no other connection can look for a frame still in a buffer,
 * and what a crash loses is a transaction that was never acknowledged.
 * SPDX-License-Identifier: MIT */
#ifndef HOOKD_STORE_WAL_BUFFER_H
#define HOOKD_STORE_WAL_BUFFER_H

#include <sqlite3.h>
#include <stdint.h>

#define WAL_BUFFER_VFS "hookd-walbuf"

/* Registers the VFS named `name` (not as the default) over `under` (NULL: the
 * default VFS). Call once, before opening a connection with it. SQLITE_OK or an
 * SQLite error code. */
int wal_buffer_register(const char *name, sqlite3_vfs *under);

/* Process-wide counts, for tests and benchmarks: writes SQLite asked for and
 * writes that reached the file underneath. */
struct wal_buffer_stats {
    uint64_t writes_in;
    uint64_t writes_out;
};
void wal_buffer_stats(struct wal_buffer_stats *out);

#endif
