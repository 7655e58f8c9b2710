/* A test domain for the resource layer (resource.h): a kind table that is not the image
 * domain's, to prove that routing, discovery, OpenAPI, Table output, the generic verbs and
 * authorization all derive from the table a domain registers.
 *
 *  widgets     stored, namespaced, short name "wd", category "testing", field label "type",
 *              columns Name/Type; prepare_create sets imageIdentity (prepare_internal: to
 *              "internal-create"/"internal-update", conditions as given); validate: type is
 *              required and must not be "invalid" (422). Subresources: status (built in) and
 *              summary (get handler, response kind ImageTag).
 *  widgettags  virtual, namespaced: "<widget>:<tag>" is annotation tag.test/<tag> of widget
 *              <widget>; the value travels as annotation "value". Handlers read and write
 *              widgets through api_obj_get/list/mutate; create asks api_authorize("update",
 *              widgets) on behalf of the request's user.
 *              An annotation "async" suspends the create (api_call_suspend) until
 *              tk_async_release(true): tk_async_waiting() counts the creates waiting.
 *  widgetconditions  virtual, derived from widgets (virt->source + expand): one item per
 *              entry of a widget's conditions, "<widget>:<type>", labels widget=<widget> and
 *              status=<condition status>, status.conditions = [that condition]; verbs get
 *              list watch (list and watch served by api/); field labels metadata.name,
 *              metadata.namespace, status.tag; columns Name/Status/Reason. A widget of type
 *              "unexpandable" makes expand fail.
 *  gadgets     stored, cluster scoped, no patch / deletecollection; derived view: a copy of
 *              the annotation "view" (none without it).
 *  fillers01.. (test_kinds_many only) cluster scoped get/list kinds, to pass 16+ resources. */
#ifndef TEST_KINDS_H
#define TEST_KINDS_H

#include "api/resource.h"

#define TK_GROUP "image.openshift.io"
#define TK_TAG_PREFIX "tag.test/"

const api_kind_t *test_kinds(size_t *n);
const api_kind_t *test_kinds_many(size_t *n);   /* test_kinds + 14 fillers */

int tk_async_waiting(void);
void tk_async_release(bool released);

#endif
