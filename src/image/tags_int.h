/* The tag resources: ImageStreamTag (istag.c) and ImageTag (itag.c), virtual kinds that
 * view and write one tag of an ImageStream (reference §1, §3); what they share
 * (tag_write.c) and their table cells (tag_table.c). Internal to image/. */
#ifndef IAS_IMAGE_TAGS_INT_H
#define IAS_IMAGE_TAGS_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "api/resource.h"
#include "image/image_int.h"

#define TW_GROUP "image.openshift.io"
#define TW_GV "image.openshift.io/v1"

/* What one write names: the request's namespace and "<stream>:<tag>", split. */
typedef struct tw_target {
    const char *ns, *name, *stream, *tag;
} tw_target_t;

/* What differs between the two kinds in the parts they share (tag_write.c). */
typedef struct tw_kind {
    const char *resource;         /* "imagestreamtags": NotFound, Conflict, ServerTimeout */
    const char *kind;             /* "ImageStreamTag": Invalid */
    const char *exists_resource;  /* AlreadyExists on create: "imagestreamtag" (sic), "imagetags" */
    const char *plural_kind;      /* "ImageStreamTags": the name-form and namespace messages */
    const char *ref_field;        /* the body's TagReference: "tag", "spec" */
    int update_attempts;          /* a blind PUT/PATCH: ISTag 4 (retried), ImageTag 1 (not) */
    /* The object of a stream's tag; image NULL: not loaded. */
    json_t *(*view)(const json_t *stream, const char *tag, const json_t *image, const char *now);
    /* PrepareForCreate and create validation of a body (tag: the name's tag part). 0 / -1. */
    int (*prepare_create)(api_call_t *c, json_t *body, const char *tag);
    /* An update after the shared checks (name, namespace, resourceVersion): prepare and
     * validate body against old (the view of the stream read; create_mode: the stream is
     * new and bare) and change the stream; *created when the spec tag is new. 0 / -1. */
    int (*update)(api_call_t *c, const tw_target_t *t, json_t *stream, json_t *body, const json_t *old,
                  bool create_mode, bool *created);
} tw_kind_t;

extern const tw_kind_t tw_istag, tw_itag;   /* istag.c, itag.c */

/* ---- tag_write.c ---- */
const api_kind_t *tw_streams(api_call_t *c);
/* Strict "<stream>:<tag>" (GET, PUT, PATCH, DELETE); -1 with 400 "<Kinds> must be
 * retrieved with <name>:<tag>". */
int tw_parse(api_call_t *c, const tw_kind_t *k, const char *name, char **stream, char **tag);
/* The latest event of a tag (borrowed), or NULL. */
json_t *tw_latest(const json_t *stream, const char *tag);
/* Spec tag `tag` := ref (copied, name forced), or removed when ref is NULL. Status tags:
 * removed. true if something was there. */
void tw_set_spec_tag(json_t *stream, const char *tag, const json_t *ref);
bool tw_remove_spec_tag(json_t *stream, const char *tag);
bool tw_remove_status_tag(json_t *stream, const char *tag);
/* v1 defaulting of a TagReference in a request body (§0.6). */
void tw_default_ref(api_call_t *c, json_t *ref);
/* ObjectMeta rules of a create (old NULL) or update, and the path-segment name rule. */
void tw_validate_meta(const json_t *obj, const json_t *old, ferrs_t *errs);
/* 422 Invalid of the kind for name; -1. */
int tw_invalid(api_call_t *c, const tw_kind_t *k, const char *name, const ferrs_t *errs);
/* The image of an event: strict (NULL with the call's error: 404 images) or best effort
 * (NULL and no error). */
json_t *tw_image(api_call_t *c, const char *image, bool strict);
/* The verbs both kinds serve alike. POST (§1.3, §3.4): the body's TagReference becomes
 * the spec tag (none: nothing is added, a missing stream is still created). PUT and PATCH
 * (§1.4, §3.5; patch: apply on the view of the stream read, inside the write's retry
 * loop): 201 when the spec tag is new. DELETE (§1.5, §3.6): the Success Status. The
 * answers of writes are the kind's view, the image loaded best effort. */
json_t *tw_create_req(api_call_t *c, const tw_kind_t *k, const char *ns, json_t *obj);
json_t *tw_update_req(api_call_t *c, const tw_kind_t *k, const char *ns, const char *name, const json_t *body,
                      api_mutate_fn patch, void *patch_arg);
json_t *tw_delete(api_call_t *c, const tw_kind_t *k, const char *ns, const char *name);
int tw_check_name(api_call_t *c, const tw_kind_t *k, const char *name);

/* ---- istag.c, itag.c ---- */
extern const api_virtual_ops_t istag_ops, itag_ops;
int istag_check_name(api_call_t *c, const char *name);
int itag_check_name(api_call_t *c, const char *name);
/* The ImageStreamTag of a stream's tag. image: the stored image (GET) or NULL (the
 * tolerant and list forms: only its name and the resolved reference). */
json_t *istag_view(const json_t *stream, const char *tag, const json_t *image, const char *now);
/* The ImageTag of a stream's tag (spec/status null when absent; image NULL -> null). */
json_t *itag_view(const json_t *stream, const char *tag, const json_t *image, const char *now);

/* ---- tag_table.c ---- */
json_t *istag_table_cells(const json_t *obj);
json_t *itag_table_cells(const json_t *obj);

#endif
