/* store_errors: the one mapping from STORE_* results to Kubernetes Status errors. */
#include "api/api_internal.h"

int api_store_err(apierr_t *err, const kind_def_t *k, int rc, const char *name)
{
    const char *res = k ? k->resource : "";
    const char *group = k ? k->schema->group : API_GROUP;
    switch (rc) {
    case STORE_EXISTS: return apierr_already_exists(err, res, group, name ? name : "");
    case STORE_NOT_FOUND: return apierr_not_found(err, res, group, name ? name : "");
    case STORE_CONFLICT: return apierr_conflict(err, res, group, name ? name : "", NULL);
    case STORE_TOO_LARGE: return apierr_set(err, APIERR_TOO_LARGE, "the object is too large to store");
    case STORE_COMPACTED: return apierr_set(err, APIERR_EXPIRED, "too old resource version");
    case STORE_FUTURE_REV: return apierr_set(err, APIERR_TIMEOUT, "Too large resource version");
    default:
        if (!apierr_is_set(err))
            err->retry_after = 1;
        return apierr_set(err, APIERR_UNAVAILABLE, "storage is unavailable, please try again");
    }
}
