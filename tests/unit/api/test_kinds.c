/* The test domain's kind table (see test_kinds.h). Reuses existing schemas so that no new
 * schema data is needed: widgets are ImageSignatures in shape, widgettags ImageTags,
 * gadgets and fillers Images. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_kinds.h"

/* ---- widgets (stored) ---- */

static void widget_prepare_create(api_call_t *c, json_t *o)
{
    (void)c;
    if (!json_object_get(o, "imageIdentity"))
        json_object_set_new(o, "imageIdentity", json_string("set-by-prepare-create"));
}

/* status carries only conditions: a main-resource write keeps the stored ones */
static void widget_prepare_update(api_call_t *c, json_t *o, const json_t *old)
{
    (void)c;
    json_t *conds = json_object_get(old, "conditions");
    if (conds)
        json_object_set(o, "conditions", conds);
    else
        json_object_del(o, "conditions");
}

/* a status write changes only conditions */
static void widget_prepare_status_update(api_call_t *c, json_t *o, const json_t *old)
{
    (void)c;
    json_t *conds = json_incref(json_object_get(o, "conditions"));
    json_t *meta = json_incref(json_object_get(o, "metadata"));
    json_object_clear(o);
    json_object_update(o, (json_t *)old);
    json_object_set_new(o, "metadata", meta ? meta : json_object());
    if (conds)
        json_object_set_new(o, "conditions", conds);
    else
        json_object_del(o, "conditions");
}

/* internal writes (api_write_opts_t.internal): conditions as given; marks the path taken */
static void widget_prepare_internal(api_call_t *c, json_t *o, const json_t *old)
{
    (void)c;
    json_object_set_new(o, "imageIdentity", json_string(old ? "internal-update" : "internal-create"));
}

static void widget_validate(api_call_t *c, json_t *o, const json_t *old, ferrs_t *e)
{
    (void)c;
    (void)old;
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type || !*type)
        ferrs_add(e, FERR_REQUIRED, "type", NULL, NULL);
    else if (strcmp(type, "invalid") == 0)
        ferrs_add(e, FERR_INVALID, "type", json_string(type), "must not be \"invalid\"");
}

static json_t *name_cells(const json_t *o)
{
    const char *n = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
    return json_pack("[s]", n ? n : "");
}

/* Gadgets' derived view: the annotation "view" (a copy), none without it. */
static void *gadget_derive(const json_t *o)
{
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(o, "metadata"), "annotations"), "view"));
    return v ? strdup(v) : NULL;
}

static json_t *widget_cells(const json_t *o)
{
    json_t *cells = name_cells(o);
    const char *t = json_string_value(json_object_get(o, "type"));
    json_array_append_new(cells, json_string(t ? t : ""));
    return cells;
}

static const api_kind_t *kind_of(api_call_t *c, const char *resource)
{
    return api_kind_find(api_call_api(c), resource);
}

/* widgets/summary: a subresource served by its get handler */
static json_t *widget_summary(api_call_t *c, const char *ns, const char *name)
{
    json_t *w = api_obj_get(c, kind_of(c, "widgets"), ns, name);
    if (!w)
        return NULL;
    json_t *annos = json_object_get(json_object_get(w, "metadata"), "annotations");
    size_t ntags = 0;
    const char *key;
    json_t *v;
    json_object_foreach(annos, key, v) {
        if (strncmp(key, TK_TAG_PREFIX, strlen(TK_TAG_PREFIX)) == 0)
            ntags++;
    }
    char gen[32];
    snprintf(gen, sizeof gen, "%zu", ntags);
    json_t *out = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "kind", "ImageTag", "apiVersion",
                            TK_GROUP "/v1", "metadata", "name", name, "namespace", ns, "spec", "name",
                            json_string_value(json_object_get(w, "type")), "generation", gen);
    json_decref(w);
    return out;
}

/* ---- widgettags (virtual) ---- */

/* "<widget>:<tag>" into two buffers; false if the name has another shape. */
static bool split_name(const char *name, char *w, size_t wn, char *t, size_t tn)
{
    const char *colon = name ? strchr(name, ':') : NULL;
    if (!colon || colon == name || !colon[1] || strchr(colon + 1, ':'))
        return false;
    snprintf(w, wn, "%.*s", (int)(colon - name), name);
    snprintf(t, tn, "%s", colon + 1);
    return true;
}

static int wt_check_name(api_call_t *c, const char *name)
{
    char w[256], t[256];
    if (split_name(name, w, sizeof w, t, sizeof t))
        return 0;
    return apierr_set(api_call_err(c), APIERR_BAD_REQUEST,
                      "widgettags must be named <widget>:<tag>, not \"%s\"", name);
}

static json_t *tag_object(const char *ns, const char *w, const char *t, const char *value, const char *rv)
{
    char name[600];
    snprintf(name, sizeof name, "%s:%s", w, t);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}}}", "kind", "WidgetTag", "apiVersion",
                     TK_GROUP "/v1", "metadata", "name", name, "namespace", ns, "resourceVersion", rv ? rv : "",
                     "labels", "widget", w, "tag", t, "annotations", "value", value ? value : "");
}

static json_t *tag_of_widget(const json_t *wd, const char *t)
{
    const json_t *meta = json_object_get(wd, "metadata");
    char key[300];
    snprintf(key, sizeof key, TK_TAG_PREFIX "%s", t);
    json_t *v = json_object_get(json_object_get(meta, "annotations"), key);
    if (!v)
        return NULL;
    return tag_object(json_string_value(json_object_get(meta, "namespace")),
                      json_string_value(json_object_get(meta, "name")), t, json_string_value(v),
                      json_string_value(json_object_get(meta, "resourceVersion")));
}

/* a missing widget is a missing widgettag */
static void tag_not_found(api_call_t *c, const char *name)
{
    apierr_clear(api_call_err(c));
    apierr_not_found(api_call_err(c), "widgettags", TK_GROUP, name);
}

static json_t *wt_get(api_call_t *c, const char *ns, const char *name)
{
    char w[256], t[256];
    if (wt_check_name(c, name) != 0)
        return NULL;
    split_name(name, w, sizeof w, t, sizeof t);
    json_t *wd = api_obj_get(c, kind_of(c, "widgets"), ns, w);
    if (!wd) {
        if (api_call_err(c)->kind == APIERR_NOT_FOUND)
            tag_not_found(c, name);
        return NULL;
    }
    json_t *out = tag_of_widget(wd, t);
    json_decref(wd);
    if (!out)
        tag_not_found(c, name);
    return out;
}

static int list_visit(void *arg, const json_t *wd)
{
    json_t *items = arg;
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(json_object_get(wd, "metadata"), "annotations"), key, v) {
        if (strncmp(key, TK_TAG_PREFIX, strlen(TK_TAG_PREFIX)) == 0)
            json_array_append_new(items, tag_of_widget(wd, key + strlen(TK_TAG_PREFIX)));
    }
    return 0;
}

static json_t *wt_list(api_call_t *c, const char *ns)
{
    json_t *items = json_array();
    if (api_obj_list(c, kind_of(c, "widgets"), ns, list_visit, items) != 0) {
        json_decref(items);
        return NULL;
    }
    return items;
}

enum { TAG_CREATE, TAG_UPDATE, TAG_DELETE };

typedef struct tag_change {
    int op;
    const char *name, *tag, *value, *rv;
} tag_change_t;

static int tag_mutate(api_call_t *c, json_t **obj, void *arg)
{
    tag_change_t *tc = arg;
    json_t *meta = json_object_get(*obj, "metadata");
    json_t *annos = json_object_get(meta, "annotations");
    if (!json_is_object(annos)) {
        annos = json_object();
        json_object_set_new(meta, "annotations", annos);
    }
    char key[300];
    snprintf(key, sizeof key, TK_TAG_PREFIX "%s", tc->tag);
    bool exists = json_object_get(annos, key) != NULL;
    if (tc->op == TAG_CREATE && exists)
        return apierr_already_exists(api_call_err(c), "widgettags", TK_GROUP, tc->name);
    if (tc->op != TAG_CREATE && !exists)
        return apierr_not_found(api_call_err(c), "widgettags", TK_GROUP, tc->name);
    if (tc->rv && *tc->rv)   /* the tag's resourceVersion is its widget's: a precondition */
        json_object_set_new(meta, "resourceVersion", json_string(tc->rv));
    if (tc->op == TAG_DELETE)
        json_object_del(annos, key);
    else
        json_object_set_new(annos, key, json_string(tc->value ? tc->value : ""));
    return 0;
}

static json_t *tag_write(api_call_t *c, const char *ns, const char *name, const json_t *obj, int op)
{
    char w[256], t[256];
    if (!name || wt_check_name(c, name) != 0)
        return NULL;
    split_name(name, w, sizeof w, t, sizeof t);
    const json_t *meta = json_object_get(obj, "metadata");
    tag_change_t tc = {
        .op = op, .name = name, .tag = t,
        .value = json_string_value(json_object_get(json_object_get(meta, "annotations"), "value")),
        .rv = json_string_value(json_object_get(meta, "resourceVersion")),
    };
    /* the domain asks on behalf of the request's user for what the handler does */
    if (api_authorize(c, "update", TK_GROUP, "widgets", "", ns, w) != 0)
        return NULL;
    json_t *wd = api_obj_mutate(c, kind_of(c, "widgets"), ns, w, tag_mutate, &tc, NULL);
    if (!wd) {
        if (api_call_err(c)->kind == APIERR_NOT_FOUND)
            tag_not_found(c, name);
        return NULL;
    }
    json_t *out = op == TAG_DELETE ? json_pack("{s:s, s:s, s:{}, s:s, s:{s:s, s:s, s:s}}", "kind", "Status",
                                               "apiVersion", "v1", "metadata", "status", "Success", "details",
                                               "name", name, "group", TK_GROUP, "kind", "widgettags")
                                   : tag_of_widget(wd, t);
    json_decref(wd);
    return out;
}

/* An annotation "async" makes the create suspend (api_call_suspend): a thread of its own
 * waits for tk_async_release(), as a registry would be waited on, then resumes the call and
 * the create runs on the pool. */
static pthread_mutex_t async_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t async_cv = PTHREAD_COND_INITIALIZER;
static int async_waiting;
static bool async_released;

typedef struct async_create {
    api_call_t *c;
    char *ns, *name;
    json_t *obj;
} async_create_t;

static void async_resumed(api_call_t *c, void *arg)
{
    async_create_t *a = arg;
    json_t *res = apierr_is_set(api_call_err(c)) ? NULL : tag_write(c, a->ns, a->name, a->obj, TAG_CREATE);
    api_call_finish(c, res);
    free(a->ns);
    free(a->name);
    json_decref(a->obj);
    free(a);
}

static void *async_waiter(void *arg)
{
    async_create_t *a = arg;
    pthread_mutex_lock(&async_mu);
    async_waiting++;
    pthread_cond_broadcast(&async_cv);
    while (!async_released)
        pthread_cond_wait(&async_cv, &async_mu);
    async_waiting--;
    pthread_mutex_unlock(&async_mu);
    api_call_resume(a->c, async_resumed, a);
    return NULL;
}

int tk_async_waiting(void)
{
    pthread_mutex_lock(&async_mu);
    int n = async_waiting;
    pthread_mutex_unlock(&async_mu);
    return n;
}

void tk_async_release(bool released)
{
    pthread_mutex_lock(&async_mu);
    async_released = released;
    pthread_cond_broadcast(&async_cv);
    pthread_mutex_unlock(&async_mu);
}

static json_t *wt_create(api_call_t *c, const char *ns, json_t *obj)
{
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    if (json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), "async")) {
        async_create_t *a = malloc(sizeof *a);
        *a = (async_create_t){c, strdup(ns), strdup(name ? name : ""), json_incref(obj)};
        api_call_suspend(c);
        pthread_t t;
        if (pthread_create(&t, NULL, async_waiter, a) != 0)
            abort();
        pthread_detach(t);
        return NULL;
    }
    return tag_write(c, ns, name ? name : "", obj, TAG_CREATE);
}

static json_t *wt_update(api_call_t *c, const char *ns, const char *name, json_t *obj)
{
    return tag_write(c, ns, name, obj, TAG_UPDATE);
}

static json_t *wt_delete(api_call_t *c, const char *ns, const char *name)
{
    json_t *empty = json_object();
    json_t *out = tag_write(c, ns, name, empty, TAG_DELETE);
    json_decref(empty);
    return out;
}

static json_t *wt_cells(const json_t *o)
{
    json_t *cells = name_cells(o);
    const char *v = json_string_value(json_object_get(json_object_get(json_object_get(o, "metadata"), "annotations"),
                                                      "value"));
    json_array_append_new(cells, json_string(v ? v : ""));
    return cells;
}

/* ---- widgetconditions (derived from widgets) ---- */

/* One item per entry of a widget's conditions: "<widget>:<condition type>", labelled with
 * the widget and the condition's status. List form: no kind or apiVersion. */
static json_t *wc_item(const json_t *wd, const json_t *cond)
{
    const json_t *meta = json_object_get(wd, "metadata");
    const char *w = json_string_value(json_object_get(meta, "name"));
    const char *type = json_string_value(json_object_get(cond, "type"));
    const char *st = json_string_value(json_object_get(cond, "status"));
    const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
    if (!w || !type || !*type)
        return NULL;
    char name[600];
    snprintf(name, sizeof name, "%s:%s", w, type);
    return json_pack("{s:{s:s, s:s, s:s, s:O?, s:{s:s, s:s}}, s:{s:s, s:[O]}}", "metadata", "name", name, "namespace",
                     json_string_value(json_object_get(meta, "namespace")), "resourceVersion", rv ? rv : "",
                     "creationTimestamp", json_object_get(meta, "creationTimestamp"), "labels", "widget", w,
                     "status", st ? st : "", "status", "tag", type, "conditions", cond);
}

/* Pure: the widget alone. A widget of type "unexpandable" fails (the watch must go on). */
static json_t *wc_expand(api_call_t *c, const json_t *wd)
{
    const char *type = json_string_value(json_object_get(wd, "type"));
    if (type && strcmp(type, "unexpandable") == 0) {
        apierr_set(api_call_err(c), APIERR_INTERNAL, "widget cannot be expanded");
        return NULL;
    }
    json_t *items = json_array();
    size_t i;
    json_t *cond;
    json_array_foreach(json_object_get(wd, "conditions"), i, cond) {
        json_t *it = wc_item(wd, cond);
        if (it)
            json_array_append_new(items, it);
    }
    return items;
}

static int wc_check_name(api_call_t *c, const char *name)
{
    char w[256], t[256];
    if (split_name(name, w, sizeof w, t, sizeof t))
        return 0;
    return apierr_set(api_call_err(c), APIERR_BAD_REQUEST,
                      "widgetconditions must be named <widget>:<type>, not \"%s\"", name);
}

static json_t *wc_get(api_call_t *c, const char *ns, const char *name)
{
    char w[256], t[256];
    if (wc_check_name(c, name) != 0)
        return NULL;
    split_name(name, w, sizeof w, t, sizeof t);
    json_t *wd = api_obj_get(c, kind_of(c, "widgets"), ns, w);
    json_t *items = wd ? wc_expand(c, wd) : NULL, *out = NULL;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        if (strcmp(json_string_value(json_object_get(json_object_get(it, "metadata"), "name")), name) == 0)
            out = json_incref(it);
    }
    json_decref(items);
    json_decref(wd);
    if (!out && (!apierr_is_set(api_call_err(c)) || api_call_err(c)->kind == APIERR_NOT_FOUND)) {
        apierr_clear(api_call_err(c));
        apierr_not_found(api_call_err(c), "widgetconditions", TK_GROUP, name);
    }
    if (out) {
        json_object_set_new(out, "kind", json_string("WidgetCondition"));
        json_object_set_new(out, "apiVersion", json_string(TK_GROUP "/v1"));
    }
    return out;
}

static json_t *wc_cells(const json_t *o)
{
    json_t *cells = name_cells(o);
    const json_t *cond = json_array_get(json_object_get(json_object_get(o, "status"), "conditions"), 0);
    const char *st = json_string_value(json_object_get(cond, "status"));
    const char *reason = json_string_value(json_object_get(cond, "reason"));
    json_array_append_new(cells, json_string(st ? st : ""));
    json_array_append_new(cells, json_string(reason ? reason : ""));
    return cells;
}

/* ---- the table ---- */

static const char *const widget_fields[] = {"metadata.name", "metadata.namespace", "type", NULL};
static const char *const name_fields[] = {"metadata.name", NULL};
static const char *const widget_short[] = {"wd", NULL};
static const char *const widget_categories[] = {"testing", "all", NULL};
static const char *const wt_short[] = {"wdt", NULL};

static const api_table_col_t widget_columns[] = {
    {"Name", "string", "name", "Name of the widget.", 0, false},
    {"Type", "string", "", "What the widget is.", 0, false},
};
static const api_table_col_t wt_columns[] = {
    {"Name", "string", "name", "<widget>:<tag>.", 0, false},
    {"Value", "string", "", "The tag's value.", 1, false},
};
static const api_table_col_t wc_columns[] = {
    {"Name", "string", "name", "<widget>:<type>.", 0, false},
    {"Status", "string", "", "The condition's status.", 0, false},
    {"Reason", "string", "", "Why.", 1, false},
};
static const api_table_col_t name_columns[] = {
    {"Name", "string", "name", "Name.", 0, false},
};

static const api_subresource_t widget_subresources[] = {
    {.name = "status", .verbs = "get patch update", .is_status = true},
    {.name = "summary", .verbs = "get", .schema = &schema_image_tag, .get = widget_summary},
};

static const api_virtual_ops_t wt_ops = {
    .get = wt_get, .list = wt_list, .create = wt_create, .update = wt_update, .del = wt_delete,
};

static const api_virtual_ops_t wc_ops = {.get = wc_get, .source = "widgets", .expand = wc_expand};
static const char *const wc_fields[] = {"metadata.name", "metadata.namespace", "status.tag", NULL};

#define ALL_VERBS "create delete deletecollection get list patch update watch"

#define WIDGETS                                                                                           \
    {.resource = "widgets", .singular = "widget", .kind = "Widget", .list_kind = "WidgetList",            \
     .schema = &schema_image_signature, .namespaced = true, .verbs = ALL_VERBS, .short_names = widget_short, \
     .categories = widget_categories, .subresources = widget_subresources, .nsubresources = 2,            \
     .field_labels = widget_fields, .columns = widget_columns, .ncolumns = 2, .table_cells = widget_cells, \
     .prepare_create = widget_prepare_create, .prepare_update = widget_prepare_update,                     \
     .prepare_status_update = widget_prepare_status_update, .prepare_internal = widget_prepare_internal, \
     .validate = widget_validate}
#define WIDGETTAGS                                                                                        \
    {.resource = "widgettags", .singular = "widgettag", .kind = "WidgetTag", .list_kind = "WidgetTagList", \
     .schema = &schema_image_tag, .namespaced = true, .verbs = "create delete get list patch update",     \
     .short_names = wt_short, .field_labels = name_fields, .columns = wt_columns, .ncolumns = 2,          \
     .table_cells = wt_cells, .virt = &wt_ops, .check_name = wt_check_name}
#define WIDGETCONDITIONS                                                                                  \
    {.resource = "widgetconditions", .singular = "widgetcondition", .kind = "WidgetCondition",            \
     .list_kind = "WidgetConditionList", .schema = &schema_image_tag, .namespaced = true,                 \
     .verbs = "get list watch", .field_labels = wc_fields, .columns = wc_columns, .ncolumns = 3,         \
     .table_cells = wc_cells, .virt = &wc_ops, .check_name = wc_check_name}
#define GADGETS                                                                                           \
    {.resource = "gadgets", .singular = "gadget", .kind = "Gadget", .list_kind = "GadgetList",            \
     .schema = &schema_image, .namespaced = false, .verbs = "create delete get list update watch",       \
     .field_labels = name_fields, .columns = name_columns, .ncolumns = 1, .table_cells = name_cells,     \
     .derive = gadget_derive, .derive_free = free}
#define FILLER(n)                                                                                          \
    {.resource = "fillers" #n, .singular = "filler" #n, .kind = "Filler" #n, .list_kind = "Filler" #n "List", \
     .schema = &schema_image, .namespaced = false, .verbs = "get list", .field_labels = name_fields,        \
     .columns = name_columns, .ncolumns = 1, .table_cells = name_cells}

static const api_kind_t kinds[] = {WIDGETS, WIDGETTAGS, WIDGETCONDITIONS, GADGETS};
static const api_kind_t kinds_many[] = {
    WIDGETS,    WIDGETTAGS, WIDGETCONDITIONS, GADGETS,    FILLER(01), FILLER(02), FILLER(03), FILLER(04),
    FILLER(05), FILLER(06), FILLER(07),       FILLER(08), FILLER(09), FILLER(10), FILLER(11), FILLER(12),
    FILLER(13), FILLER(14),
};

const api_kind_t *test_kinds(size_t *n)
{
    *n = sizeof kinds / sizeof *kinds;
    return kinds;
}

const api_kind_t *test_kinds_many(size_t *n)
{
    *n = sizeof kinds_many / sizeof *kinds_many;
    return kinds_many;
}
