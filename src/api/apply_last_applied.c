/* apply_last_applied: the bridge between client-side and server-side apply (kube's
 * lastAppliedManager / lastAppliedUpdater): kubectl's SSA may take over fields that
 * client-side apply set and that still hold their last-applied values, and keeps the
 * kubectl.kubernetes.io/last-applied-configuration annotation current. */
#include <stdlib.h>
#include <string.h>

#include "api/patch_internal.h"

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
/* kube limits all annotations of an object together to 256 KiB */
#define ANNOTATIONS_MAX (256u * 1024u)

/* Only kubectl's own SSA manager name gets the bridge; any other name opts out, as in kube. */
bool la_manager(const char *manager) { return manager && !strcmp(manager, "kubectl"); }

static json_t *annotations_of(const json_t *obj)
{
    return json_object_get(json_object_get(obj, "metadata"), "annotations");
}

/* The annotation's text; NULL when absent or empty. */
const char *la_text(const json_t *obj)
{
    const char *s = json_string_value(json_object_get(annotations_of(obj), LAST_APPLIED));
    return s && *s ? s : NULL;
}

/* Fields client-side apply may hand over without a conflict: those of the last-applied
 * config whose live value is still the config's. Fields changed since (or gone) are
 * someone else's now. NULL without a usable annotation (other apiVersion, not JSON). */
json_t *la_allowed(const json_t *live, const char *api_version, const schema_node_t *root)
{
    const char *text = la_text(live);
    json_t *la = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(la) || !json_is_string(json_object_get(la, "apiVersion")) ||
        strcmp(json_string_value(json_object_get(la, "apiVersion")), api_version)) {
        json_decref(la);
        return NULL;
    }
    json_t *set = fs_of_object(la, root, false);
    json_t *differs = fs_changed(set, la, live);
    json_t *allowed = fs_diff(set, differs);
    json_decref(set);
    json_decref(differs);
    json_decref(la);
    return allowed;
}

/* v as Go's encoding/json writes it (what kube stores): sorted keys, <>& and U+2028/9
 * escaped, newline-terminated. Those characters only occur inside strings, so escaping
 * them in jansson's compact output is safe. Caller frees. */
static char *go_json(const json_t *v)
{
    char *raw = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    buf_t b;
    buf_init(&b);
    for (const char *p = raw; p && *p; p++) {
        if (*p == '<' || *p == '>' || *p == '&')
            buf_printf(&b, "\\u%04x", (unsigned)*p);
        else if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
                 ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9)) {
            buf_printf(&b, "\\u%04x", 0x2000u + (unsigned char)p[2] - 0x80u);
            p += 2;
        } else
            buf_putc(&b, *p);
    }
    buf_putc(&b, '\n');
    free(raw);
    return buf_steal(&b);
}

/* An SSA by kubectl keeps an existing annotation current: the applied config minus the
 * annotation, so a later client-side apply diffs against what was applied last. Dropped
 * when it would push the annotations past kube's size limit. */
void la_update(json_t *res, const json_t *applied)
{
    json_t *cfg = json_deep_copy(applied);
    json_t *meta = json_object_get(cfg, "metadata");
    if (json_is_object(meta))
        json_object_del(meta, "managedFields");
    json_object_del(annotations_of(cfg), LAST_APPLIED);
    char *text = go_json(cfg);
    json_decref(cfg);

    json_t *ann = annotations_of(res);
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(ann, k, v)
        if (strcmp(k, LAST_APPLIED))
            total += strlen(k) + (json_is_string(v) ? strlen(json_string_value(v)) : 0);
    total += strlen(LAST_APPLIED) + strlen(text);
    if (total > ANNOTATIONS_MAX)
        json_object_del(ann, LAST_APPLIED);
    else
        json_object_set_new(ann, LAST_APPLIED, json_string(text));
    free(text);
}

