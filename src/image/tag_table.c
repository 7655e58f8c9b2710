/* Table cells of the tag resources (reference §7). Times are Unix seconds (or null) for
 * the columns marked `age`: the table encoder renders "<duration> ago". */
#include <stdlib.h>
#include <string.h>

#include "image/tags_int.h"
#include "util/util.h"

static json_t *secs_or_null(const json_t *t)
{
    int64_t s;
    return ij_time_secs(t, &s) ? json_integer(s) : json_null();
}

/* [Name, Image Reference, Updated, Image Name] */
json_t *istag_table_cells(const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata"), *image = json_object_get(obj, "image");
    return json_pack("[s, s, o, s]", ij_str(meta, "name"), ij_str(image, "dockerImageReference"),
                     secs_or_null(json_object_get(meta, "creationTimestamp")),
                     ij_str(json_object_get(image, "metadata"), "name"));
}

/* What the spec says: the kind of tag and where it points (source) or what is wrong. */
typedef struct itag_row {
    const char *spec;      /* "", Tag, Ref, Scheduled, Track, Push */
    char *source;
    const char *status;    /* a fixed word that wins over source, or NULL */
    char *failed;          /* "ImportFailed (<reason>)" */
    json_int_t gen;
} itag_row_t;

static void spec_part(itag_row_t *r, const json_t *spec)
{
    r->spec = "Tag";
    if (ij_bool(spec, "reference"))
        r->spec = "Ref";
    if (ij_bool(json_object_get(spec, "importPolicy"), "scheduled"))
        r->spec = "Scheduled";
    r->gen = ij_int(spec, "generation");
    const json_t *from = json_object_get(spec, "from");
    if (!json_is_object(from)) {
        r->spec = "";
        return;
    }
    const char *kind = ij_str(from, "kind"), *name = ij_str(from, "name"), *ns = ij_str(from, "namespace");
    if (!strcmp(kind, "DockerImage")) {
        r->source = xstrdup(name);
    } else if (!strcmp(kind, "ImageStreamImage")) {
        char *repo, *id;
        if (vn_at_parse(name, &repo, &id) == 0) {
            r->source = xasprintf("image/%s", id);
            free(repo);
            free(id);
        } else {
            r->status = "InvalidRefName";
        }
    } else if (!strcmp(kind, "ImageStreamTag")) {
        r->source = *ns ? xasprintf("istag %s/%s", ns, name) : xasprintf("istag/%s", name);
        char *s, *t;
        if (!vn_istag_split(name, &s, &t))
            r->spec = "Track";   /* a tag of the same stream: a tracking tag */
        free(s);
        free(t);
    } else {
        r->status = "InvalidRefKind";
    }
}

/* [Name, Spec, Status, History, Updated] */
json_t *itag_table_cells(const json_t *obj)
{
    itag_row_t r = {.spec = ""};
    const json_t *spec = json_object_get(obj, "spec"), *status = json_object_get(obj, "status");
    if (json_is_object(spec))
        spec_part(&r, spec);
    json_t *history = json_null(), *updated = json_null();
    if (json_is_object(status)) {
        const json_t *items = json_object_get(status, "items");
        size_t n = json_array_size(items);
        int64_t last = 0;
        bool have_last = false;
        if (n) {
            json_decref(history);
            history = json_integer((json_int_t)n);
            const json_t *e = json_array_get(items, 0);
            json_int_t eg = ij_int(e, "generation");
            have_last = ij_time_secs(json_object_get(e, "created"), &last);
            if (r.gen > 0 && eg > 0 && eg < r.gen) {
                r.status = "Importing";
            } else if (*ij_str(e, "image")) {
                free(r.source);
                r.source = xasprintf("image/%s", ij_str(e, "image"));
            } else if (*ij_str(e, "dockerImageReference")) {
                free(r.source);
                r.source = xstrdup(ij_str(e, "dockerImageReference"));
            }
            if (r.source && *r.source && !*r.spec)
                r.spec = "Push";   /* no spec: pushed */
            else if (strcmp(r.spec, "Track") && r.gen > 0 && eg > 0 && eg > r.gen)
                r.spec = "Push";   /* newer than the spec tag: reset or pushed over */
        }
        size_t i;
        const json_t *cond;
        json_array_foreach(json_object_get(status, "conditions"), i, cond) {
            if (!strcmp(ij_str(cond, "type"), "ImportSuccess") && !strcmp(ij_str(cond, "status"), "False")) {
                free(r.failed);
                r.failed = xasprintf("ImportFailed (%s)", ij_str(cond, "reason"));
            }
            int64_t t;
            if (ij_time_secs(json_object_get(cond, "lastTransitionTime"), &t) && (!have_last || t > last)) {
                last = t;
                have_last = true;
            }
        }
        if (have_last) {
            json_decref(updated);
            updated = json_integer(last);
        }
    }
    const char *st = r.failed ? r.failed : r.status ? r.status : r.source ? r.source : "";
    json_t *cells = json_pack("[s, s, s, o, o]", ij_str(json_object_get(obj, "metadata"), "name"), r.spec, st,
                              history, updated);
    free(r.source);
    free(r.failed);
    return cells;
}
