/* Field lookups on the static schema data. */
#include <string.h>

#include "schema/schema_internal.h"

const schema_node_t *schema_field(const schema_node_t *obj, const char *name)
{
    if (!obj || !name || obj->type != ST_OBJECT || !obj->fields)
        return NULL;
    for (const schema_node_t *f = obj->fields; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Path segments are separated by '.'; "[...]" index suffixes are skipped. Arrays are
 * entered implicitly ("spec.tags.from" is the from field of a tags element); on a map
 * node the next segment is a key and yields the map's element node. */
const schema_node_t *schema_lookup(const schema_node_t *root, const char *dotted_path)
{
    const schema_node_t *n = root;
    const char *p = dotted_path;
    char seg[256];

    if (!n || !p)
        return NULL;
    while (*p) {
        size_t len = 0;
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {           /* index or key: stays on the same node */
            const char *close = strchr(p, ']');
            if (!close)
                return NULL;
            p = close + 1;
            continue;
        }
        while (p[len] && p[len] != '.' && p[len] != '[')
            len++;
        if (len >= sizeof(seg))
            return NULL;
        memcpy(seg, p, len);
        seg[len] = '\0';
        p += len;
        while (n->type == ST_ARRAY && n->items)
            n = n->items;
        if (n->type == ST_MAP) {
            n = n->items;
        } else {
            n = schema_field(n, seg);
        }
        if (!n)
            return NULL;
    }
    return n;
}
