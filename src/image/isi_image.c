/* The Image of an imported manifest (§4.5), made with the same code as an Image create
 * (manifest.c): name = the manifest's digest, dockerImageReference = the user's repository
 * @digest, manifest and config as received, then layers, metadata and size derived from
 * them. Schema 1 layer sizes come from the fetch (its HEADs) when the manifest has none. */
#include <stdlib.h>
#include <string.h>

#include "image/isi_int.h"
#include "importer/importer.h"
#include "util/util.h"

static json_t *image_base(const reg_fetched_t *f, const char *user_repo)
{
    json_t *img = json_pack("{s:{s:s}, s:s++, s:s}", "metadata", "name", f->digest ? f->digest : "",
                            "dockerImageReference", user_repo, "@", f->digest ? f->digest : "",
                            "dockerImageMetadataVersion", "1.0");
    if (f->manifest) {
        json_t *m = json_stringn(f->manifest, f->manifest_len);
        if (m)
            json_object_set_new(img, "dockerImageManifest", m);
    }
    if (f->media_type)
        json_object_set_new(img, "dockerImageManifestMediaType", json_string(f->media_type));
    return img;
}

json_t *isi_image_from_fetched(const reg_fetched_t *f, const char *user_repo, const char *now)
{
    json_t *img = image_base(f, user_repo);
    if (f->config) {
        json_t *c = json_stringn(f->config, f->config_len);
        if (c)
            json_object_set_new(img, "dockerImageConfig", c);
    }
    const reg_manifest_t *p = f->parsed;
    if (p && p->kind == REG_KIND_SCHEMA1 && p->nlayers && f->layer_sizes) {
        /* schema 1 carries no sizes of its own: the fetch HEADed each layer */
        json_t *layers = json_array();
        for (size_t i = 0; i < p->nlayers; i++)
            json_array_append_new(layers, json_pack("{s:s, s:I, s:s}", "name", p->layers[i].digest, "size",
                                                    (json_int_t)f->layer_sizes[i], "mediaType", MT_SCHEMA1_LAYER));
        json_object_set_new(img, "dockerImageLayers", layers);
    }
    image_fill_metadata(img, now);
    return img;
}

json_t *isi_image_from_list(const reg_fetched_t *f, const reg_fetched_t *children, size_t n,
                            const char *user_repo, const char *now)
{
    (void)children;
    (void)n;
    json_t *img = image_base(f, user_repo);
    image_fill_metadata(img, now);     /* a list: Id = its digest, Created = now */
    img_fill_manifest_list(img);       /* dockerImageManifests from the list's entries */
    json_object_del(img, "dockerImageManifest");
    return img;
}

void isi_image_strip(json_t *image)
{
    if (!json_is_object(image))
        return;
    json_object_del(image, "dockerImageManifest");
    json_object_del(image, "dockerImageConfig");
}
