/* test_jobs - the delivery thread's heap and message-id index (deliver/jobs.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "deliver/jobs.h"

static struct job *make(const char *id, int64_t due)
{
    struct job *j = calloc(1, sizeof(*j));
    assert_non_null(j);
    snprintf(j->message_id, sizeof(j->message_id), "%s", id);
    j->due_ms = due;
    return j;
}

static void test_heap_pops_in_due_order(void **state)
{
    (void)state;
    struct job_heap h = {0};
    /* A fixed pseudo-random order, enough to grow the array twice. */
    uint32_t x = 12345;
    for (int i = 0; i < 1000; i++) {
        x = x * 1103515245u + 12345u;
        char id[16];
        snprintf(id, sizeof(id), "m%d", i);
        job_heap_push(&h, make(id, (int64_t)(x % 5000)));
    }
    int64_t last = -1;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(job_heap_top(&h)->due_ms, h.v[0]->due_ms);
        struct job *j = job_heap_pop(&h);
        assert_true(j->due_ms >= last);
        last = j->due_ms;
        job_free(j);
    }
    assert_int_equal(h.len, 0);
    assert_null(job_heap_top(&h));
    job_heap_release(&h);
}

static void test_index_finds_adds_removes(void **state)
{
    (void)state;
    struct job_index x = {0};
    assert_null(job_index_find(&x, "nothing"));
    struct job *jobs[3000];
    for (int i = 0; i < 3000; i++) { /* past two growths of the bucket array */
        char id[40];
        snprintf(id, sizeof(id), "019a0000-0000-7000-8000-%012d", i);
        jobs[i] = make(id, i);
        job_index_add(&x, jobs[i]);
    }
    assert_int_equal(x.len, 3000);
    for (int i = 0; i < 3000; i++)
        assert_ptr_equal(job_index_find(&x, jobs[i]->message_id), jobs[i]);
    for (int i = 0; i < 3000; i += 2)
        job_index_remove(&x, jobs[i]);
    job_index_remove(&x, jobs[0]); /* twice: a no-op */
    assert_int_equal(x.len, 1500);
    for (int i = 0; i < 3000; i++)
        assert_ptr_equal(job_index_find(&x, jobs[i]->message_id), i % 2 ? jobs[i] : NULL);
    /* A superseding job of the same message takes the removed one's place. */
    struct job *again = make(jobs[0]->message_id, 0);
    job_index_add(&x, again);
    assert_ptr_equal(job_index_find(&x, jobs[0]->message_id), again);
    job_free(again);
    for (int i = 0; i < 3000; i++)
        job_free(jobs[i]);
    job_index_release(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_pops_in_due_order),
        cmocka_unit_test(test_index_finds_adds_removes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
