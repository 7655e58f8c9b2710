/* ImageStream table cells (§3.14): [Name, Image Repository, Tags, Updated]. Updated is
 * the newest latest-event time in Unix seconds (the table encoder renders "<dur> ago"). */
#include "image/image_int.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define TAGS_WIDTH 40

typedef struct tag_row {
    const char *name;
    bool has;
    int64_t t;
} tag_row_t;

/* Newest first, ties by name; tags without events last (by name). */
static int row_cmp(const void *a, const void *b)
{
    const tag_row_t *x = a, *y = b;
    if (x->has != y->has)
        return x->has ? -1 : 1;
    if (x->has && x->t != y->t)
        return x->t > y->t ? -1 : 1;
    return strcmp(x->name, y->name);
}

json_t *imagestream_table_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec"), *status = json_object_get(obj, "status");
    const char *repo = ij_str(status, "publicDockerImageRepository");
    if (!*repo)
        repo = ij_str(spec, "dockerImageRepository");
    if (!*repo)
        repo = ij_str(status, "dockerImageRepository");

    json_t *tags = json_object_get(status, "tags");
    size_t n = json_array_size(tags), i;
    tag_row_t *rows = xcalloc(n ? n : 1, sizeof *rows);
    bool any = false;
    int64_t newest = 0;
    json_t *t;
    json_array_foreach(tags, i, t) {
        rows[i].name = ij_str(t, "tag");
        json_t *e = json_array_get(json_object_get(t, "items"), 0);
        rows[i].has = e && ij_time_secs(json_object_get(e, "created"), &rows[i].t);
        if (rows[i].has && (!any || rows[i].t > newest)) {
            newest = rows[i].t;
            any = true;
        }
    }
    qsort(rows, n, sizeof *rows, row_cmp);

    /* Cut rule of the reference printer: a tag that does not fit is still shown when more
     * than W/4 characters were free before it and it overflows by at most W/4. */
    size_t shown = n;
    long remaining = TAGS_WIDTH;
    for (i = 0; i < n; i++) {
        long len = (long)strlen(rows[i].name);
        remaining -= len + 1;
        if (remaining >= 0)
            continue;
        if (i == 0) {
            shown = 1;
            break;
        }
        if (TAGS_WIDTH / 4 < remaining + len && TAGS_WIDTH / 4 >= -remaining)
            continue;
        shown = i;
        break;
    }
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "");
    for (i = 0; i < shown; i++)
        buf_printf(&b, "%s%s", i ? "," : "", rows[i].name);
    if (shown < n)
        buf_printf(&b, " + %zu more...", n - shown);
    json_t *cells = json_pack("[s, s, s, o]", is_name(obj), repo, b.data, any ? json_integer(newest) : json_null());
    buf_free(&b);
    free(rows);
    return cells;
}
