/* image_signature: the imagesignatures endpoint (§2 of the stored-resources reference).
 * A signature is not stored on its own: create appends it to Image.signatures and
 * delete removes it, each as one update of the Image through the object API (so the
 * Image strategy and validation run, a concurrent change is retried, dry run writes
 * nothing). Unlike the reference, create reads the content (sig_gpg.c) and fills the
 * fields and conditions it can (docs/signatures.md); and dry run is honoured. */
#include <stdlib.h>
#include <string.h>

#include "api/objectmeta.h"
#include "image/image_int.h"
#include "image/sig_int.h"
#include "util/util.h"

#define SIG_RESOURCE "imageSignatures"   /* the reference's camel-case resource string */
#define GROUP "image.openshift.io"

static const api_kind_t *images_kind(api_call_t *c)
{
    const api_kind_t *k = api_kind_find(api_call_api(c), "images");
    if (!k)
        apierr_set(api_call_err(c), APIERR_INTERNAL, "Internal error occurred: images are not served");
    return k;
}

/* ---- create ---- */

/* The metadata a create keeps (§0.2, §2.3): system fields are the server's. */
static void prepare_meta(api_call_t *c, json_t *meta)
{
    /* cluster-scoped, kept inside the Image: no namespace, managedFields or generation */
    static const char *const wiped[] = {"namespace", "managedFields", "generation"};
    for (size_t i = 0; i < sizeof wiped / sizeof *wiped; i++)
        json_object_del(meta, wiped[i]);
    api_meta_prepare_create(c, meta);
}

static int invalid(api_call_t *c, const char *name, const ferrs_t *errs)
{
    return apierr_invalid(api_call_err(c), "ImageSignature." GROUP, "ImageSignature", GROUP, name, errs);
}

typedef struct add_arg {
    const json_t *sig;
    const char *name;
    const unsigned char *content;
    size_t content_len;
} add_arg_t;

/* Same type and byte-identical content (base64 text may differ in line breaks). */
static bool same_content(const json_t *s, const add_arg_t *a)
{
    if (strcmp(ij_str(s, "type"), ij_str(a->sig, "type")) != 0)
        return false;
    size_t n = 0;
    unsigned char *b = sig_b64_decode(ij_str(s, "content"), &n);
    bool same = b && n == a->content_len && memcmp(b, a->content, n) == 0;
    free(b);
    return same;
}

static int add_signature(api_call_t *c, json_t **img, void *arg)
{
    add_arg_t *a = arg;
    json_t *sigs = json_object_get(*img, "signatures");
    size_t i;
    json_t *s;
    json_array_foreach(sigs, i, s) {
        if (!strcmp(ij_str(json_object_get(s, "metadata"), "name"), a->name) || same_content(s, a))
            return apierr_already_exists(api_call_err(c), SIG_RESOURCE, GROUP, a->name);
    }
    if (!json_is_array(sigs)) {
        sigs = json_array();
        json_object_set_new(*img, "signatures", sigs);
    }
    json_array_append_new(sigs, json_deep_copy(a->sig));
    return 0;
}

/* The signature as stored in the updated image, in the endpoint's output form. */
static json_t *stored_signature(api_call_t *c, const json_t *img, const char *name)
{
    json_t *s = NULL;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(img, "signatures"), i, it) {
        if (!strcmp(ij_str(json_object_get(it, "metadata"), "name"), name))
            s = it;
    }
    if (!s) {
        apierr_set(api_call_err(c), APIERR_INTERNAL, "Internal error occurred: the signature was not stored");
        return NULL;
    }
    json_t *out = json_pack("{s:s, s:s}", "kind", "ImageSignature", "apiVersion", GROUP "/v1");
    json_object_update(out, s);
    return out;
}

/* Reads the content (runs gpg unless the type is not one the server reads). */
static void read_content(api_call_t *c, json_t *sig, const char *image, const unsigned char *bytes, size_t n)
{
    const image_config_t *cfg = api_call_domain(c);
    sig_report_t r;
    const char *type = ij_str(sig, "type");
    if (strcmp(type, "AtomicImageV1") != 0) {
        memset(&r, 0, sizeof r);
        r.outcome = SIG_UNREAD;
        r.why = xstrdup("the server reads signatures of type AtomicImageV1 only");
    } else {
        sig_verify(cfg ? cfg->signatures : NULL, bytes, n, &r);
    }
    sig_describe(sig, &r, image, api_call_now(c));
    sig_report_free(&r);
}

static json_t *sig_create(api_call_t *c, const char *ns, json_t *obj)
{
    json_t *sig = json_deep_copy(obj), *res = NULL, *img = NULL;
    char *image = NULL, *sname = NULL;
    unsigned char *bytes = NULL;
    ferrs_t errs = FERRS_INIT;
    json_object_del(sig, "kind");        /* entries of Image.signatures carry no type meta */
    json_object_del(sig, "apiVersion");
    json_t *meta = json_object_get(sig, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(sig, "metadata", meta);
    }
    prepare_meta(c, meta);
    const char *name = ij_str(meta, "name");
    /* §2.3: what verifiers set is cleared; the server fills it from the content below */
    sig_clear_server_fields(sig);
    image_signature_validate(sig, "", &errs);
    if (!errs.n)
        validate_object_meta(meta, false, &errs);
    if (errs.n) {
        invalid(c, name, &errs);
        goto out;
    }
    size_t n = 0;
    bytes = sig_b64_decode(ij_str(sig, "content"), &n);
    if (!bytes || vn_at_parse(name, &image, &sname) != 0) {   /* decode and validation checked both */
        apierr_set(api_call_err(c), APIERR_BAD_REQUEST, "content: illegal base64 data");
        goto out;
    }
    char *canonical = sig_b64_encode(bytes, n);   /* as Go re-encodes []byte */
    json_object_set_new(sig, "content", json_string_nocheck(canonical));
    free(canonical);
    read_content(c, sig, image, bytes, n);
    const api_kind_t *k = images_kind(c);
    if (!k)
        goto out;
    add_arg_t a = {sig, name, bytes, n};
    img = api_obj_mutate(c, k, NULL, image, add_signature, &a, NULL);
    if (img)
        res = stored_signature(c, img, name);
    if (res)
        api_call_set_code(c, 201);
out:
    ferrs_free(&errs);
    json_decref(img);
    json_decref(sig);
    free(bytes);
    free(image);
    free(sname);
    return res;
}

/* ---- delete ---- */
static int remove_signature(api_call_t *c, json_t **img, void *arg)
{
    const char *name = arg;
    json_t *sigs = json_object_get(*img, "signatures");
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        if (!strcmp(ij_str(json_object_get(json_array_get(sigs, i), "metadata"), "name"), name)) {
            json_array_remove(sigs, i);
            return 0;
        }
    }
    return apierr_not_found(api_call_err(c), SIG_RESOURCE, GROUP, name);
}

static json_t *sig_delete(api_call_t *c, const char *ns, const char *name)
{
    char *image = NULL, *sname = NULL;
    if (vn_at_parse(name, &image, &sname) != 0) {
        apierr_set(api_call_err(c), APIERR_BAD_REQUEST,
                   "ImageSignatures must be accessed with <imageName>@<signatureName>");
        return NULL;
    }
    json_t *res = NULL;
    const api_kind_t *k = images_kind(c);
    json_t *img = k ? api_obj_mutate(c, k, NULL, image, remove_signature, (void *)name, NULL) : NULL;
    if (img)
        res = json_pack("{s:s, s:s, s:{}, s:s}", "kind", "Status", "apiVersion", "v1", "metadata", "status", "Success");
    json_decref(img);
    free(image);
    free(sname);
    return res;
}

const api_virtual_ops_t image_signature_ops = {.create = sig_create, .del = sig_delete};
