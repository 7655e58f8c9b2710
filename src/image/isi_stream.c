/* What an import with spec.import: true does to the target stream (§4.7), as a pure
 * change of its JSON: each success tags the image ("import successful": a new event with
 * the next generation, the spec tag reset to follow the import when anything moved), each
 * failure sets the tag's ImportSuccess=False condition (unless the same one is there) and
 * makes sure a spec tag exists for it. The generation bookkeeping (spec tag generation 0
 * -> the new stream generation) is the stream strategy's, at the write. */
#include <stdlib.h>
#include <string.h>

#include "image/isi_int.h"
#include "util/util.h"

/* The named entry of the array stream.<part>.tags (key "name" or "tag"), created in name
 * order when absent and create is set. */
static json_t *tag_entry(json_t *stream, const char *part, const char *key, const char *tag, bool create)
{
    json_t *p = ij_obj(stream, part);
    json_t *tags = json_object_get(p, "tags");
    if (!json_is_array(tags)) {
        if (!create)
            return NULL;
        tags = json_array();
        json_object_set_new(p, "tags", tags);
    }
    json_t *t = ij_find(tags, key, tag);
    if (t || !create)
        return t;
    size_t pos = 0;
    while (pos < json_array_size(tags) && strcmp(ij_str(json_array_get(tags, pos), key), tag) < 0)
        pos++;
    t = json_pack("{s:s}", key, tag);
    json_array_insert_new(tags, pos, t);
    return t;
}

static char *event_reference(const json_t *image)
{
    const char *ref = ij_str(image, "dockerImageReference");
    const char *name = ij_str(json_object_get(image, "metadata"), "name");
    docker_ref_t r;
    const char *msg;
    if (docker_ref_parse(ref, &r, &msg) != 0) {
        docker_ref_free(&r);
        return xstrdup(ref);
    }
    free(r.id);
    r.id = xstrdup(name);
    if (digest_valid(r.id)) {   /* MostSpecific: a digest drops the tag */
        free(r.tag);
        r.tag = xstrdup("");
    }
    char *s = docker_ref_exact(&r);
    docker_ref_free(&r);
    return s;
}

static void import_successful(json_t *stream, const isi_stream_in_t *in, const char *tag, const char *from,
                              const json_t *image, const json_t *import_policy, const json_t *ref_policy)
{
    const char *iname = ij_str(json_object_get(image, "metadata"), "name");
    char *eref = event_reference(image);
    json_t *nowj = json_string(in->now);
    json_t *ev = json_pack("{s:o, s:s, s:s, s:I}", "created", ij_time(nowj), "dockerImageReference", eref, "image",
                           iname, "generation", (json_int_t)in->next_generation);
    json_decref(nowj);
    json_t *latest = json_array_get(json_object_get(is_status_tag(stream, tag), "items"), 0);
    json_t *sp = is_spec_tag(stream, tag);
    json_t *spgen = json_object_get(sp, "generation");
    bool changed = !latest || !sp || !json_is_integer(spgen) ||
                   strcmp(ij_str(latest, "dockerImageReference"), eref) || strcmp(ij_str(latest, "image"), iname) ||
                   json_integer_value(spgen) > ij_int(latest, "generation");
    if (changed) {
        if (!sp)
            sp = tag_entry(stream, "spec", "name", tag, true);
        json_object_set_new(sp, "from", json_pack("{s:s, s:s}", "kind", "DockerImage", "name", from));
        json_object_set_new(sp, "generation", json_integer(0));
        if (!*ij_str(json_object_get(sp, "referencePolicy"), "type") && json_is_object(ref_policy))
            json_object_set_new(sp, "referencePolicy", json_deep_copy(ref_policy));
        imagestream_add_tag_event(stream, tag, ev);
    }
    if (json_is_object(import_policy))
        json_object_set_new(sp, "importPolicy", json_deep_copy(import_policy));
    json_t *st = is_status_tag(stream, tag);
    if (st)
        json_object_del(st, "conditions");
    json_decref(ev);
    free(eref);
}

static void import_failed(json_t *stream, const isi_stream_in_t *in, const char *tag, const json_t *status)
{
    const char *base = ij_str(status, "message");
    if (!*base)
        base = "unknown error prevented import";
    char *msg = in->failure_note && *in->failure_note ? xasprintf("%s; %s", base, in->failure_note) : xstrdup(base);
    const char *reason = ij_str(status, "reason");
    json_t *st = tag_entry(stream, "status", "tag", tag, true);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(st, "conditions"), i, c) {
        if (!strcmp(ij_str(c, "type"), "ImportSuccess") && !strcmp(ij_str(c, "status"), "False") &&
            !strcmp(ij_str(c, "reason"), reason) && !strcmp(ij_str(c, "message"), msg)) {
            free(msg);
            return;   /* the same failure again: nothing moves */
        }
    }
    json_t *nowj = json_string(in->now);
    json_t *cond = json_pack("{s:s, s:s, s:o, s:s, s:s, s:I}", "type", "ImportSuccess", "status", "False",
                             "lastTransitionTime", ij_time(nowj), "reason", reason, "message", msg, "generation",
                             (json_int_t)in->next_generation);
    json_decref(nowj);
    json_object_set_new(st, "conditions", json_pack("[o]", cond));
    json_t *sp = is_spec_tag(stream, tag);
    if (sp)
        json_object_set_new(sp, "generation", json_integer(0));
    free(msg);
}

void isi_stream_apply(json_t *stream, const isi_stream_in_t *in)
{
    const json_t *repo = json_object_get(in->spec, "repository");
    const json_t *rstatus = json_object_get(in->status, "repository");
    size_t i;
    json_t *e;
    if (json_is_object(repo) && json_is_object(rstatus)) {
        const char *rname = ij_str(json_object_get(repo, "from"), "name");
        json_array_foreach(json_object_get(rstatus, "images"), i, e) {
            const char *tag = ij_str(e, "tag");
            if (!*tag)
                continue;
            if (!isi_status_ok(json_object_get(e, "status"))) {
                import_failed(stream, in, tag, json_object_get(e, "status"));
                continue;
            }
            char *from = xasprintf("%s:%s", rname, tag);
            import_successful(stream, in, tag, from, json_object_get(e, "image"),
                              json_object_get(repo, "importPolicy"), json_object_get(repo, "referencePolicy"));
            free(from);
        }
    }
    const json_t *images = json_object_get(in->status, "images");
    json_array_foreach(json_object_get(in->spec, "images"), i, e) {
        const char *to = ij_str(json_object_get(e, "to"), "name");
        const json_t *res = json_array_get(images, i);
        if (!*to || !res)
            continue;   /* without `to` an image is reported, never tagged */
        const char *from = ij_str(json_object_get(e, "from"), "name");
        const json_t *s = json_object_get(res, "status");
        if (isi_status_ok(s) && json_is_object(json_object_get(res, "image"))) {
            import_successful(stream, in, to, from, json_object_get(res, "image"), json_object_get(e, "importPolicy"),
                              json_object_get(e, "referencePolicy"));
            continue;
        }
        import_failed(stream, in, to, s);
        if (!is_spec_tag(stream, to)) {
            json_t *sp = tag_entry(stream, "spec", "name", to, true);
            json_object_set_new(sp, "from", json_pack("{s:s, s:s}", "kind", "DockerImage", "name", from));
            json_object_set_new(sp, "generation", json_integer(0));
            if (json_is_object(json_object_get(e, "importPolicy")))
                json_object_set_new(sp, "importPolicy", json_deep_copy(json_object_get(e, "importPolicy")));
            if (json_is_object(json_object_get(e, "referencePolicy")))
                json_object_set_new(sp, "referencePolicy", json_deep_copy(json_object_get(e, "referencePolicy")));
        }
    }
}
