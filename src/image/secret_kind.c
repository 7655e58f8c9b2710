/* secret_kind: core v1 Secrets as a stored kind of this server (the pull secrets of
 * imports) and the imagestreams/<name>/secrets subresource. Values never reach a log:
 * nothing here logs, and validation errors print "<secret contents redacted>". */
#include <stdlib.h>
#include <string.h>

#include "image/credentials.h"
#include "image/secret.h"
#include "util/util.h"

const char *const secret_field_labels[] = {"metadata.name", "metadata.namespace", "type", NULL};

const api_table_col_t secret_columns[SECRET_NCOLUMNS] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating resources, although some resources may "
     "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
     "for creation idempotence and configuration definition. Cannot be updated.", 0, false},
    {"Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0, false},
    {"Data", "string", "", "Data contains the secret data.", 0, false},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when this object was created.", 0, true,
     .age_plain = true},
};

void secret_normalize_hook(api_call_t *c, json_t *o)
{
    (void)c;
    secret_normalize(o);
}

void secret_validate_hook(api_call_t *c, json_t *o, const json_t *old, ferrs_t *e)
{
    (void)c;
    secret_validate(o, old, e);
}

json_t *secret_table_cells(const json_t *o)
{
    json_t *meta = json_object_get(o, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *created = json_string_value(json_object_get(meta, "creationTimestamp"));
    time_t t = 0;
    json_t *age = created && time_parse_rfc3339(created, &t) == 0 ? json_integer(t) : json_null();
    return json_pack("[s, s, I, o]", name ? name : "", type ? type : "",
                     (json_int_t)json_object_size(json_object_get(o, "data")), age);
}

typedef struct pull_list {
    json_t *items;
} pull_list_t;

static int add_pull_secret(void *arg, const json_t *obj)
{
    pull_list_t *l = arg;
    if (cred_is_pull_secret(obj))
        json_array_append(l->items, (json_t *)obj);
    return 0;
}

json_t *is_secrets_get(api_call_t *c, const char *ns, const char *name)
{
    (void)name;   /* the stream is not read: the namespace's secrets are the answer */
    const api_kind_t *k = api_kind_find(api_call_api(c), "secrets");
    if (!k) {
        apierr_set(api_call_err(c), APIERR_INTERNAL, "secrets are not served");
        return NULL;
    }
    pull_list_t l = {json_array()};
    if (api_obj_list(c, k, ns, add_pull_secret, &l) != 0) {
        json_decref(l.items);
        return NULL;
    }
    char rv[24];
    snprintf(rv, sizeof rv, "%lld", (long long)api_kind_rev(k));
    return json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", "SecretList", "apiVersion", "image.openshift.io/v1",
                     "metadata", "resourceVersion", rv, "items", l.items);
}
