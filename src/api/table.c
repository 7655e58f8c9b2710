/* table: meta.k8s.io/v1 Table rows and PartialObjectMetadata from cached, precomputed cells. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

json_t *table_columns_json(const kind_def_t *k)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < k->ncolumns; i++) {
        const table_col_t *c = &k->columns[i];
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name, "type", c->type,
                                              "format", c->format, "description", c->description, "priority",
                                              c->priority));
    }
    return cols;
}

json_t *partial_object(const obj_extra_t *x)
{
    json_error_t jerr;
    json_t *meta = json_loads(x->meta_json, 0, &jerr);
    return json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1", "metadata",
                     meta ? meta : json_object());
}

static json_t *render_cells(const kind_def_t *k, const json_t *cells, int64_t now)
{
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(cells); i++) {
        json_t *c = json_array_get(cells, i);
        if (i < k->ncolumns && k->columns[i].age) {
            if (json_is_integer(c)) {
                char d[64], s[80];
                time_human_duration(now - json_integer_value(c), d, sizeof d);
                snprintf(s, sizeof s, k->columns[i].age_plain ? "%s" : "%s ago", d);
                json_array_append_new(out, json_string(s));
            } else {
                json_array_append_new(out, json_string(""));
            }
        } else {
            json_array_append(out, c);
        }
    }
    return out;
}

json_t *table_row(const kind_def_t *k, cache_obj_t *o, include_object_t inc, int64_t now)
{
    obj_extra_t *x = o->extra;
    json_t *row = json_pack("{s:o}", "cells", render_cells(k, x->cells, now));
    if (inc == INCLUDE_METADATA) {
        json_object_set_new(row, "object", partial_object(x));
    } else if (inc == INCLUDE_OBJECT) {
        json_error_t jerr;
        json_t *full = json_loadb(o->json, o->json_len, 0, &jerr);
        json_object_set_new(row, "object", full ? full : json_null());
    }
    return row;
}

json_t *table_row_from_json(const kind_def_t *k, const json_t *obj, include_object_t inc, int64_t now)
{
    json_t *cells = k->table_cells ? k->table_cells(obj) : json_array();
    json_t *row = table_row_cells(k, cells, obj, inc, now);
    json_decref(cells);
    return row;
}

json_t *table_row_cells(const kind_def_t *k, const json_t *cells, const json_t *obj, include_object_t inc,
                        int64_t now)
{
    json_t *row = json_pack("{s:o}", "cells", render_cells(k, cells, now));
    if (inc == INCLUDE_METADATA) {
        json_t *meta = json_object_get(obj, "metadata");
        json_object_set_new(row, "object", json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion",
                                                     "meta.k8s.io/v1", "metadata", meta ? json_incref(meta) : json_object()));
    } else if (inc == INCLUDE_OBJECT) {
        json_object_set(row, "object", (json_t *)obj);
    }
    return row;
}
