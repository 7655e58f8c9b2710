/* The Status of each imported image and repository (§4.5): the reference's reasons, codes
 * and exact messages for each way a fetch can fail. */
#include <stdlib.h>
#include <string.h>

#include "image/isi_int.h"
#include "util/util.h"

json_t *isi_status_success(void)
{
    return json_pack("{s:{}, s:s}", "metadata", "status", "Success");
}

bool isi_status_ok(const json_t *status)
{
    return !strcmp(ij_str(status, "status"), "Success");
}

json_t *isi_status_from_err(const apierr_t *err)
{
    json_t *s = apierr_status_json(err);
    json_object_del(s, "kind");
    json_object_del(s, "apiVersion");
    return s;
}

static json_t *internal(const char *fmt_ref, const char *error)
{
    apierr_t e = APIERR_INIT;
    char *cause = fmt_ref ? xasprintf("%s: %s", fmt_ref, error) : xstrdup(error);
    apierr_set_details(&e, APIERR_INTERNAL, json_pack("{s:[{s:s}]}", "causes", "message", cause),
                       "Internal error occurred: %s", cause);
    free(cause);
    json_t *s = isi_status_from_err(&e);
    apierr_clear(&e);
    return s;
}

static json_t *not_found(const char *name)
{
    apierr_t e = APIERR_INIT;
    apierr_not_found(&e, "dockerimage", ISI_GROUP, name);
    json_t *s = isi_status_from_err(&e);
    apierr_clear(&e);
    return s;
}

static json_t *unauthorized(const char *fmt, const char *name)
{
    apierr_t e = APIERR_INIT;
    apierr_set(&e, APIERR_UNAUTHORIZED, fmt, name);
    json_t *s = isi_status_from_err(&e);
    apierr_clear(&e);
    return s;
}

json_t *isi_status_failure(reg_fetch_error_t kind, const char *ref, const char *error)
{
    if (!error || !*error)
        error = "unknown error";
    switch (kind) {
    case REG_FETCH_NOT_FOUND: return not_found(ref);
    case REG_FETCH_UNAUTHORIZED: return unauthorized("you may not have access to the container image \"%s\"", ref);
    case REG_FETCH_BAD_CREDENTIALS: return unauthorized("incorrect username or password for image \"%s\"", ref);
    case REG_FETCH_CONTENT: return internal(NULL, error);
    case REG_FETCH_OK:
    case REG_FETCH_FAILED:
    default: return internal(ref, error);
    }
}

json_t *isi_status_list_failure(reg_fetch_error_t kind, const char *repo, const char *error)
{
    if (!error || !*error)
        error = "unknown error";
    switch (kind) {
    case REG_FETCH_NOT_FOUND: return not_found(repo);
    case REG_FETCH_UNAUTHORIZED:
    case REG_FETCH_BAD_CREDENTIALS:
        return unauthorized("you may not have access to the container image \"%s\"", repo);
    default: return internal(NULL, error);
    }
}

json_t *isi_status_repository(size_t failed)
{
    if (!failed)
        return isi_status_success();
    char *msg = failed == 1 ? xstrdup("one of the images from this repository failed to import")
                            : xasprintf("%zu of the images from this repository failed to import", failed);
    json_t *s = json_pack("{s:{}, s:s, s:s, s:s}", "metadata", "status", "Failure", "message", msg, "reason",
                          "ImportFailed");
    free(msg);
    return s;
}
