/* SPDX-License-Identifier: BSD-2-Clause */
/* The detail pane's tree for /api/packet/{seq}: layers and their byte spans. */
#include "api.h"

#include "wlite-proto.h"

#include <cjson/cJSON.h>

struct cJSON *webd_packet_detail(struct wl_packet *pkt, int linktype, const uint8_t *raw, size_t len)
{
	cJSON *root = cJSON_CreateObject(), *layers = cJSON_AddArrayToObject(root, "layers");

	(void)linktype;
	(void)raw;
	(void)len;
	for (unsigned i = 0; i < pkt->n_layers && i < WL_LAYERS_MAX; i++) {
		cJSON *layer = cJSON_CreateObject();

		cJSON_AddStringToObject(layer, "name", wl_proto_name((enum wl_proto)pkt->layers[i].proto));
		cJSON_AddNumberToObject(layer, "offset", pkt->layers[i].off);
		cJSON_AddNumberToObject(layer, "length", pkt->layers[i].len);
		cJSON_AddItemToObject(layer, "fields", cJSON_CreateArray());
		cJSON_AddItemToArray(layers, layer);
	}
	return root;
}
