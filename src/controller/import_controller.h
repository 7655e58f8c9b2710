/* import_controller: imports the DockerImage spec tags of image streams on its own
 * (virtual-resources-and-import.md §6.1), the way openshift-controller-manager's image
 * stream controller does, inside the server: it watches image streams through the watch
 * cache, decides with ic_decide, and runs the ImageStreamImport through isi_run. Failed
 * imports are retried with exponential backoff (10 s doubling to 15 min), the next attempt
 * time in the tag's condition message. On etcd only the elected leader imports.
 *
 * Threads: the watch's deliver() only queues the stream's key (cheap, on the cache's
 * dispatcher); a few workers read the stream and start the import; isi_run's registry part
 * is asynchronous and its write step comes back to the workers (api_call_set_executor), so a
 * worker never waits on a registry and a slow registry never delays another stream. */
#ifndef IAS_CONTROLLER_IMPORT_CONTROLLER_H
#define IAS_CONTROLLER_IMPORT_CONTROLLER_H

#include "api/api.h"
#include "image/isi.h"
#include "storage/storage.h"

typedef struct import_controller import_controller_t;

/* The import to run (isi_run; tests pass a fake). */
typedef void (*ic_import_fn)(api_call_t *c, const char *ns, const json_t *isi, const isi_opts_t *opts,
                             isi_done_fn done, void *arg);

typedef struct import_controller_opts {
    store_election_t *leader;   /* NULL: always leading (embedded store) */
    int workers;                /* 0 -> 2 */
    int retry_min_s;            /* first retry after a failed import; 0 -> 10 */
    int retry_max_s;            /* backoff cap; 0 -> 900 */
    ic_import_fn import;        /* NULL -> isi_run */
    /* importPolicy.scheduled tags are re-checked about this often (§6.2; the scheduler's
     * buckets make it interval × (buckets + 1) / buckets); 0: never */
    long schedule_interval_ms;
    int max_scheduled_per_minute; /* the global limit on scheduled re-checks; 0 -> 60 */
} import_controller_opts_t;

/* Starts watching (after api_start). NULL on failure (logged). */
import_controller_t *import_controller_start(api_t *api, const import_controller_opts_t *o);
/* Stops watching and starting imports. Then free the registry client (imports still out
 * end with its error), then import_controller_free: the workers finish those imports'
 * write steps, and leave. Both before the HTTP server and the store go. */
void import_controller_stop(import_controller_t *ic);
void import_controller_free(import_controller_t *ic);

/* A registry push (the registry's host as it saw it, the repository, the tag; tag NULL or
 * "" for a push by digest): every stream with a spec tag that follows host/repository:tag
 * (or, for a digest, whose last import of a tag came from host/repository) re-imports those
 * tags now, on this replica whether or not it leads (like an import a user asks for).
 * Returns how many streams were asked. */
size_t import_controller_push(import_controller_t *ic, const char *host, const char *repository, const char *tag);

#endif
