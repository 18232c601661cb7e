/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The detail pane's tree for /api/packet/{seq}: the packet dissected again
 * with wl_dissect_tree(), as layers, their fields and sub-fields, each with
 * the frame bytes it covers so that the dashboard can highlight them.
 */
#include "http/detail.h"

#include "wlite-proto.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#define DETAIL_FIELDS_MAX 2048

static cJSON *field_json(const struct wl_field *f)
{
	cJSON *item = cJSON_CreateObject();

	cJSON_AddStringToObject(item, "name", f->name);
	cJSON_AddStringToObject(item, "value", f->value);
	cJSON_AddNumberToObject(item, "offset", f->off);
	cJSON_AddNumberToObject(item, "length", f->len);
	cJSON_AddNumberToObject(item, "depth", f->depth);
	return item;
}

/* Depth 0 lines are layers, depth 1 their fields, depth 2 the fields' parts. */
static void add_tree(cJSON *layers, const struct wl_tree *tree)
{
	cJSON *layer = NULL, *fields = NULL, *field = NULL;

	for (unsigned i = 0; i < tree->n; i++) {
		const struct wl_field *f = &tree->fields[i];
		cJSON *item = field_json(f);

		if (f->depth == 0 || !layer) {
			layer = item;
			cJSON_AddStringToObject(layer, "proto", wl_proto_name((enum wl_proto)f->proto));
			fields = cJSON_AddArrayToObject(layer, "fields");
			field = NULL;
			cJSON_AddItemToArray(layers, layer);
		} else if (f->depth == 1 || !field) {
			field = item;
			cJSON_AddItemToArray(fields, field);
		} else {
			cJSON *children = cJSON_GetObjectItemCaseSensitive(field, "fields");

			if (!children)
				children = cJSON_AddArrayToObject(field, "fields");
			cJSON_AddItemToArray(children, item);
		}
	}
}

struct cJSON *detail_json(struct wl_packet *pkt, int linktype, const uint8_t *raw, size_t len)
{
	struct wl_tree tree = { .fields = calloc(DETAIL_FIELDS_MAX, sizeof(struct wl_field)),
				.max = DETAIL_FIELDS_MAX };
	cJSON *root;

	if (!tree.fields)
		return NULL;
	/* The summary is refilled the same way; only the tree is new. */
	wl_dissect_tree(pkt, linktype, raw, len, &tree);
	root = cJSON_CreateObject();
	add_tree(cJSON_AddArrayToObject(root, "layers"), &tree);
	cJSON_AddBoolToObject(root, "tree_truncated", tree.truncated);
	free(tree.fields);
	return root;
}
