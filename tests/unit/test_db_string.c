/* test_db_string - which backend a --db string names (store_backend_of), and that
 * --print-config never shows a PostgreSQL password (config_print). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "store/store.h"

static void test_backend_of(void **state)
{
    (void)state;
    static const struct {
        const char *db;
        enum store_backend want;
        const char *rest;
    } cases[] = {
        {"./hookd-data", STORE_SQLITE, "./hookd-data"},
        {"/var/lib/hookd", STORE_SQLITE, "/var/lib/hookd"},
        {"sqlite:/var/lib/hookd", STORE_SQLITE, "/var/lib/hookd"},
        {"sqlite:host=x", STORE_SQLITE, "host=x"}, /* the prefix settles it */
        {"data", STORE_SQLITE, "data"},
        {"./a=b", STORE_SQLITE, "./a=b"}, /* a '/' before the '=': a path */
        {"postgres://u@h:5432/db", STORE_POSTGRES, "postgres://u@h:5432/db"},
        {"postgresql:///hookd", STORE_POSTGRES, "postgresql:///hookd"},
        {"host=/run/postgresql dbname=hookd", STORE_POSTGRES, "host=/run/postgresql dbname=hookd"},
        {"dbname=hookd", STORE_POSTGRES, "dbname=hookd"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *rest = NULL;
        assert_int_equal(store_backend_of(cases[i].db, &rest), cases[i].want);
        assert_string_equal(rest, cases[i].rest);
    }
}

/* config_print's line for db, given --db value. */
static void printed_db(const char *db, char *out, size_t len)
{
    char flag[512];
    snprintf(flag, sizeof(flag), "--db=%s", db);
    char *argv[] = {flag, NULL}; /* what follows "hookd serve" */
    struct config cfg;
    assert_true(config_load(&cfg, 1, argv));
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    config_print(&cfg, f);
    fclose(f);
    const char *line = strstr(buf, "\ndb = ");
    assert_non_null(line);
    snprintf(out, len, "%.*s", (int)strcspn(line + 6, "\n"), line + 6);
    free(buf);
}

static void test_print_hides_password(void **state)
{
    (void)state;
    char got[512];
    printed_db("postgres://hookd:s3cret@db:5432/hookd", got, sizeof(got));
    assert_string_equal(got, "postgres://hookd:***@db:5432/hookd");
    printed_db("host=db password=s3cret dbname=hookd", got, sizeof(got));
    assert_string_equal(got, "host=db password=*** dbname=hookd");
    printed_db("postgres://hookd@db/hookd", got, sizeof(got));
    assert_string_equal(got, "postgres://hookd@db/hookd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_of),
        cmocka_unit_test(test_print_hides_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
