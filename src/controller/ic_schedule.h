/* ic_schedule: the bucket scheduler of scheduled imports (virtual-resources-and-import.md
 * §6.2). Streams are spread over `buckets` buckets plus the current one; the current
 * bucket is drained item by item, each item moving to the bucket just behind the current
 * one, and an empty current bucket makes the scheduler advance. The caller paces the
 * advances (one every interval / buckets), so each stream comes round about every
 * interval × (buckets + 1) / buckets. Not thread-safe: the controller holds its lock. */
#ifndef IAS_CONTROLLER_IC_SCHEDULE_H
#define IAS_CONTROLLER_IC_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ic_schedule ic_schedule_t;

/* The number of buckets for an interval: 4, twice that above an hour, half below 10 min. */
int ic_schedule_buckets_for(long interval_ms);
ic_schedule_t *ic_schedule_new(int buckets);
void ic_schedule_free(ic_schedule_t *s);
/* Puts key in the least-filled bucket other than the current one, among equals the one
 * furthest from it (the one reached last); a key already scheduled moves there. */
void ic_schedule_add(ic_schedule_t *s, const char *key);
void ic_schedule_remove(ic_schedule_t *s, const char *key);
/* Moves a scheduled key to the bucket just behind the current one (the one reached last):
 * the stream was just imported for another reason. No-op for a key not scheduled. */
void ic_schedule_delay(ic_schedule_t *s, const char *key);
bool ic_schedule_has(const ic_schedule_t *s, const char *key);
size_t ic_schedule_size(const ic_schedule_t *s);
/* One step: the next key of the current bucket (new string, moved behind the current
 * bucket), or NULL after advancing to the next bucket because the current one was empty. */
char *ic_schedule_next(ic_schedule_t *s);

#endif
