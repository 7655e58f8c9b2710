/* The scheduled-import bucket scheduler: virtual-resources-and-import.md §6.2, case 68. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ic_schedule.h"

/* next() until it hands out a key (returned, or NULL after limit steps); *steps counts */
static char *step_until_item(ic_schedule_t *s, int limit, int *steps)
{
    for (*steps = 1; *steps <= limit; (*steps)++) {
        char *k = ic_schedule_next(s);
        if (k)
            return k;
    }
    return NULL;
}

/* case 68: 2 buckets (+1): an added item is never in the current bucket; it is handed out
 * on the 3rd step, not before */
static void test_case68_third_run(void **state)
{
    (void)state;
    ic_schedule_t *s = ic_schedule_new(2);
    ic_schedule_add(s, "ns/a");
    assert_true(ic_schedule_has(s, "ns/a"));
    assert_null(ic_schedule_next(s));
    assert_null(ic_schedule_next(s));
    char *k = ic_schedule_next(s);
    assert_non_null(k);
    assert_string_equal(k, "ns/a");
    free(k);
    /* moved just behind the current bucket: two advances, then it again */
    int steps;
    k = step_until_item(s, 10, &steps);
    assert_non_null(k);
    assert_int_equal(steps, 3); /* its bucket is empty now, then two advances: one cycle */
    free(k);
    ic_schedule_free(s);
}

/* case 68, Delay: a stream just imported for another reason goes just behind the current
 * bucket and is handed out on the 3rd step after it, not before */
static void test_case68_delay(void **state)
{
    (void)state;
    ic_schedule_t *s = ic_schedule_new(2);
    ic_schedule_add(s, "ns/a");
    assert_null(ic_schedule_next(s)); /* advance: a's bucket is now the next one */
    ic_schedule_delay(s, "ns/a");
    ic_schedule_delay(s, "ns/absent");
    assert_false(ic_schedule_has(s, "ns/absent"));
    assert_null(ic_schedule_next(s));
    assert_null(ic_schedule_next(s));
    char *k = ic_schedule_next(s);
    assert_non_null(k);
    assert_string_equal(k, "ns/a");
    free(k);
    ic_schedule_free(s);
}

/* items spread over the buckets least-filled first; every item comes round once per cycle of
 * (buckets + 1) advances */
static void test_spread_and_cycle(void **state)
{
    (void)state;
    ic_schedule_t *s = ic_schedule_new(4);
    char key[16];
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "ns/s%d", i);
        ic_schedule_add(s, key);
    }
    assert_int_equal(ic_schedule_size(s), 8);
    int seen[8] = {0}, advances = 0;
    while (advances < 5) {
        char *k = ic_schedule_next(s);
        if (!k) {
            advances++;
            continue;
        }
        seen[atoi(k + 4)]++;
        free(k);
    }
    for (int i = 0; i < 8; i++)
        assert_int_equal(seen[i], 1);
    ic_schedule_free(s);
}

/* re-adding moves (never duplicates); removing stops it */
static void test_readd_remove(void **state)
{
    (void)state;
    ic_schedule_t *s = ic_schedule_new(2);
    ic_schedule_add(s, "ns/a");
    ic_schedule_add(s, "ns/a");
    assert_int_equal(ic_schedule_size(s), 1);
    ic_schedule_add(s, "ns/b");
    ic_schedule_remove(s, "ns/a");
    assert_false(ic_schedule_has(s, "ns/a"));
    int got = 0;
    for (int i = 0; i < 9; i++) {
        char *k = ic_schedule_next(s);
        if (k) {
            assert_string_equal(k, "ns/b");
            got++;
        }
        free(k);
    }
    assert_int_equal(got, 3);
    ic_schedule_remove(s, "ns/missing");
    ic_schedule_free(s);
}

static void test_buckets_for(void **state)
{
    (void)state;
    assert_int_equal(ic_schedule_buckets_for(15 * 60 * 1000L), 4);
    assert_int_equal(ic_schedule_buckets_for(2 * 3600 * 1000L), 8);
    assert_int_equal(ic_schedule_buckets_for(5 * 60 * 1000L), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case68_third_run),
        cmocka_unit_test(test_case68_delay),
        cmocka_unit_test(test_spread_and_cycle),
        cmocka_unit_test(test_readd_remove),
        cmocka_unit_test(test_buckets_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
