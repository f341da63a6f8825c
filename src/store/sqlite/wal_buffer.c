/* wal_buffer - see wal_buffer.h. SPDX-License-Identifier: MIT */
#include "store/sqlite/wal_buffer.h"

#include <string.h>

/* A commit of ~20 pages is ~80 KiB; a larger one goes out in several writes. The
 * unix VFS masks every write's length to 17 bits (seekAndWriteFd: nBuf &= 0x1ffff),
 * so one write must stay below 128 KiB. */
enum { WB_CAP = 120 * 1024 };

struct wb_file {
    sqlite3_file base; /* base.pMethods = &methods */
    sqlite3_io_methods methods;
    sqlite3_file *real; /* the file of the VFS underneath, right after this struct */
    int is_wal;
    unsigned char *buf; /* WAL files: bytes not yet written (allocated on first use) */
    size_t len;
    sqlite3_int64 at; /* file offset of buf[0] */
};

static sqlite3_vfs wb_vfs;
static sqlite3_vfs *wb_under;
static uint64_t stat_in, stat_out;

static struct wb_file *wb(sqlite3_file *p)
{
    return (struct wb_file *)p;
}

static int direct_write(struct wb_file *f, const void *data, int n, sqlite3_int64 off)
{
    __atomic_fetch_add(&stat_out, 1, __ATOMIC_RELAXED);
    return f->real->pMethods->xWrite(f->real, data, n, off);
}

/* Writes what is buffered. On failure the bytes are dropped: SQLite sees the error
 * of the sync (or read) that asked for the flush and abandons the transaction. */
static int flush(struct wb_file *f)
{
    if (f->len == 0)
        return SQLITE_OK;
    size_t n = f->len;
    f->len = 0;
    return direct_write(f, f->buf, (int)n, f->at);
}

static int wb_write(sqlite3_file *p, const void *data, int n, sqlite3_int64 off)
{
    struct wb_file *f = wb(p);
    __atomic_fetch_add(&stat_in, 1, __ATOMIC_RELAXED);
    if (!f->is_wal || n <= 0)
        return direct_write(f, data, n, off);
    sqlite3_int64 end = f->at + (sqlite3_int64)f->len;
    if (f->len > 0 && off >= f->at && off + n <= end) { /* a frame rewritten in place */
        memcpy(f->buf + (off - f->at), data, (size_t)n);
        return SQLITE_OK;
    }
    if (f->len > 0 && off == end && f->len + (size_t)n <= WB_CAP) {
        memcpy(f->buf + f->len, data, (size_t)n);
        f->len += (size_t)n;
        return SQLITE_OK;
    }
    int rc = flush(f); /* anything else: what came before goes out first, in order */
    if (rc != SQLITE_OK)
        return rc;
    if ((size_t)n > WB_CAP / 2)
        return direct_write(f, data, n, off);
    if (!f->buf && !(f->buf = sqlite3_malloc(WB_CAP)))
        return direct_write(f, data, n, off);
    memcpy(f->buf, data, (size_t)n);
    f->len = (size_t)n;
    f->at = off;
    return SQLITE_OK;
}

static int wb_read(sqlite3_file *p, void *out, int n, sqlite3_int64 off)
{
    struct wb_file *f = wb(p);
    if (f->len > 0 && off < f->at + (sqlite3_int64)f->len && off + n > f->at) {
        int rc = flush(f);
        if (rc != SQLITE_OK)
            return rc;
    }
    return f->real->pMethods->xRead(f->real, out, n, off);
}

static int wb_close(sqlite3_file *p)
{
    struct wb_file *f = wb(p);
    int rc = flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    sqlite3_free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    struct wb_file *f = wb(p);
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *p, int flags)
{
    struct wb_file *f = wb(p);
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
    struct wb_file *f = wb(p);
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int wb_file_control(sqlite3_file *p, int op, void *arg)
{
    struct wb_file *f = wb(p);
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

/* The rest pass through (the WAL file has no locks, shared memory or mapping of
 * its own; those belong to the database file, which is never buffered). */
static int wb_lock(sqlite3_file *p, int l)
{
    return wb(p)->real->pMethods->xLock(wb(p)->real, l);
}
static int wb_unlock(sqlite3_file *p, int l)
{
    return wb(p)->real->pMethods->xUnlock(wb(p)->real, l);
}
static int wb_check_reserved(sqlite3_file *p, int *out)
{
    return wb(p)->real->pMethods->xCheckReservedLock(wb(p)->real, out);
}
static int wb_sector_size(sqlite3_file *p)
{
    return wb(p)->real->pMethods->xSectorSize(wb(p)->real);
}
static int wb_device_chars(sqlite3_file *p)
{
    return wb(p)->real->pMethods->xDeviceCharacteristics(wb(p)->real);
}
static int wb_shm_map(sqlite3_file *p, int pg, int sz, int extend, void volatile **out)
{
    return wb(p)->real->pMethods->xShmMap(wb(p)->real, pg, sz, extend, out);
}
static int wb_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
    return wb(p)->real->pMethods->xShmLock(wb(p)->real, offset, n, flags);
}
static void wb_shm_barrier(sqlite3_file *p)
{
    wb(p)->real->pMethods->xShmBarrier(wb(p)->real);
}
static int wb_shm_unmap(sqlite3_file *p, int del)
{
    return wb(p)->real->pMethods->xShmUnmap(wb(p)->real, del);
}
static int wb_fetch(sqlite3_file *p, sqlite3_int64 off, int n, void **out)
{
    struct wb_file *f = wb(p);
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, n, out);
}
static int wb_unfetch(sqlite3_file *p, sqlite3_int64 off, void *ptr)
{
    return wb(p)->real->pMethods->xUnfetch(wb(p)->real, off, ptr);
}

static const sqlite3_io_methods wb_methods = {
    .iVersion = 3,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_file_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_check_reserved,
    .xFileControl = wb_file_control,
    .xSectorSize = wb_sector_size,
    .xDeviceCharacteristics = wb_device_chars,
    .xShmMap = wb_shm_map,
    .xShmLock = wb_shm_lock,
    .xShmBarrier = wb_shm_barrier,
    .xShmUnmap = wb_shm_unmap,
    .xFetch = wb_fetch,
    .xUnfetch = wb_unfetch,
};

static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags,
                   int *out_flags)
{
    (void)vfs;
    struct wb_file *f = wb(p);
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    int rc = wb_under->xOpen(wb_under, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        if (f->real->pMethods)
            f->real->pMethods->xClose(f->real);
        p->pMethods = NULL; /* nothing for SQLite to close */
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->methods = wb_methods;
    /* Never claim more than the file underneath has (SQLite probes xShmMap and
     * xFetch by version). */
    if (f->real->pMethods->iVersion < f->methods.iVersion)
        f->methods.iVersion = f->real->pMethods->iVersion;
    p->pMethods = &f->methods;
    return SQLITE_OK;
}

int wal_buffer_register(const char *name, sqlite3_vfs *under)
{
    if (!under && !(under = sqlite3_vfs_find(NULL)))
        return SQLITE_ERROR;
    wb_under = under;
    wb_vfs = *under; /* every other method is the one underneath: none uses pAppData
                      * or the VFS pointer beyond mxPathname, which is copied too */
    wb_vfs.zName = name;
    wb_vfs.pNext = NULL;
    wb_vfs.szOsFile = (int)sizeof(struct wb_file) + under->szOsFile;
    wb_vfs.xOpen = wb_open;
    return sqlite3_vfs_register(&wb_vfs, 0);
}

void wal_buffer_stats(struct wal_buffer_stats *out)
{
    out->writes_in = __atomic_load_n(&stat_in, __ATOMIC_RELAXED);
    out->writes_out = __atomic_load_n(&stat_out, __ATOMIC_RELAXED);
}
