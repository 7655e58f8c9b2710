/* RFC 7386 JSON merge patch. */
#include "api/patch.h"

json_t *patch_merge(const json_t *target, const json_t *patch)
{
    if (!json_is_object(patch))
        return json_deep_copy(patch);
    json_t *res = json_is_object(target) ? json_deep_copy(target) : json_object();
    const char *k;
    json_t *pv;
    json_object_foreach((json_t *)patch, k, pv) {
        if (json_is_null(pv)) {
            json_object_del(res, k);
            continue;
        }
        json_object_set_new(res, k, patch_merge(json_object_get(res, k), pv));
    }
    return res;
}
