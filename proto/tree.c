/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The detail tree of wl_dissect_tree(): lines appended to the caller's array,
 * cut at its end. Only ever called with d->tree set; see dissect.h.
 */
#include "dissect.h"

#include <limits.h>

/* Appends a line over frame bytes [off, off + len); NULL when it does not fit. */
static struct wl_field *add_line(struct wl_dctx *d, uint8_t depth, size_t off, size_t len,
				 const char *name)
{
	struct wl_tree *tree = d->tree;

	if (!tree)
		return NULL;
	/* A line that cannot be said in 16 bits is left out, like one past max. */
	if (tree->n >= tree->max || off > UINT16_MAX) {
		tree->truncated = true;
		return NULL;
	}
	if (len > UINT16_MAX - off)
		len = UINT16_MAX - off;

	struct wl_field *f = &tree->fields[tree->n++];
	struct wl_sb sb = wl_sb_make(f->name, sizeof(f->name));

	f->depth = depth;
	f->proto = d->tree_proto;
	f->off = (uint16_t)off;
	f->len = (uint16_t)len;
	wl_sb_str(&sb, name);
	f->value[0] = '\0';
	return f;
}

void wl_tree_layer(struct wl_dctx *d, enum wl_proto proto, const char *name, const struct cursor *c)
{
	if (!d->tree)
		return;
	d->tree_proto = (uint8_t)proto;
	d->tree_depth = 1;
	d->tree_layer = d->tree->n;
	if (!add_line(d, 0, wl_frame_off(d, c, c->off), cur_left(c), name))
		d->tree_layer = UINT_MAX; /* its fields go nowhere either */
}

bool wl_tree_layer_value(struct wl_dctx *d, struct wl_sb *ret)
{
	struct wl_tree *tree = d->tree;

	if (!tree || d->tree_layer >= tree->n || tree->fields[d->tree_layer].depth != 0)
		return false;
	struct wl_field *f = &tree->fields[d->tree_layer];

	*ret = (struct wl_sb){ .buf = f->value, .size = sizeof(f->value), .len = strlen(f->value) };
	return true;
}

bool wl_tree_field(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		   const char *name, struct wl_sb *ret)
{
	struct wl_field *f;

	/* Only captured bytes can be pointed at. */
	if (at > c->len)
		at = c->len;
	if (len > c->len - at)
		len = c->len - at;
	f = add_line(d, d->tree_depth, wl_frame_off(d, c, at), len, name);
	if (!f)
		return false;
	*ret = wl_sb_make(f->value, sizeof(f->value));
	return true;
}

void wl_tree_uint(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		  const char *name, uint64_t v)
{
	struct wl_sb sb;

	if (wl_tree_field(d, c, at, len, name, &sb))
		wl_sb_u64(&sb, v);
}

void wl_tree_hex(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		 const char *name, uint64_t v)
{
	struct wl_sb sb;

	if (!wl_tree_field(d, c, at, len, name, &sb))
		return;
	wl_sb_str(&sb, "0x");
	wl_sb_hex(&sb, v, (unsigned)(len * 2 > 16 ? 16 : len * 2));
}

void wl_tree_named(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		   const char *name, uint64_t v, const char *known)
{
	struct wl_sb sb;

	if (!wl_tree_field(d, c, at, len, name, &sb))
		return;
	wl_sb_u64(&sb, v);
	if (known) {
		wl_sb_str(&sb, " (");
		wl_sb_str(&sb, known);
		wl_sb_char(&sb, ')');
	}
}

void wl_tree_text(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		  const char *name, const char *text)
{
	struct wl_sb sb;

	if (wl_tree_field(d, c, at, len, name, &sb))
		wl_sb_str(&sb, text);
}

void wl_tree_printable(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		       const char *name)
{
	struct cursor text = *c;
	struct wl_sb sb;

	text.off = at > c->len ? c->len : at;
	text = cur_rest(&text);
	cur_narrow(&text, len);
	if (wl_tree_field(d, c, at, len, name, &sb))
		wl_sb_printable(&sb, text);
}

void wl_tree_bytes(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		   const char *name)
{
	struct wl_sb sb;

	if (!wl_tree_field(d, c, at, len, name, &sb))
		return;
	for (size_t i = 0; i < len && at + i < c->len; i++) {
		if (sb.size - 1 - sb.len < 2 + 3) {
			wl_sb_str(&sb, "...");
			return;
		}
		wl_sb_hex(&sb, c->p[at + i], 2);
	}
}

void wl_tree_addr(struct wl_dctx *d, const struct cursor *c, size_t at, const char *name,
		  const struct wl_addr *a)
{
	struct wl_sb sb;

	if (wl_tree_field(d, c, at, a->family == 6 ? 16 : 4, name, &sb))
		wl_sb_addr(&sb, a);
}

void wl_tree_mac(struct wl_dctx *d, const struct cursor *c, size_t at, const char *name)
{
	struct wl_sb sb;

	if (at > c->len || 6 > c->len - at || !wl_tree_field(d, c, at, 6, name, &sb))
		return;
	for (size_t i = 0; i < 6; i++) {
		if (i)
			wl_sb_char(&sb, ':');
		wl_sb_hex(&sb, c->p[at + i], 2);
	}
}

void wl_tree_flag(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		  const char *name, uint64_t v, uint64_t mask)
{
	uint8_t depth = d->tree_depth;

	d->tree_depth = 2;
	wl_tree_text(d, c, at, len, name, v & mask ? "Set" : "Not set");
	d->tree_depth = depth;
}

/* The first error of the frame, as a line under the layer that met it. */
void wl_tree_error(struct wl_dctx *d, int err)
{
	struct wl_tree *tree = d->tree;
	struct wl_field *layer;
	struct wl_field *f;

	if (!tree || d->tree_layer >= tree->n)
		return;
	layer = &tree->fields[d->tree_layer];
	f = add_line(d, 1, layer->off, layer->len, "Expert info");
	if (!f)
		return;
	struct wl_sb sb = wl_sb_make(f->value, sizeof(f->value));

	wl_sb_str(&sb, err == -EMSGSIZE ? "Truncated: the capture ends inside this layer"
		       : err == -ELOOP  ? "Malformed: layers nest too deep"
					: "Malformed: a field contradicts the format");
}

/*
 * A layer line first covers its layer and everything it carries; once the
 * next layer is known, it is cut back to its own header, as a hex view wants.
 */
void wl_tree_finish(struct wl_tree *tree)
{
	for (unsigned i = 0; i < tree->n; i++) {
		struct wl_field *f = &tree->fields[i];

		if (f->depth != 0)
			continue;
		for (unsigned j = i + 1; j < tree->n; j++) {
			const struct wl_field *next = &tree->fields[j];

			if (next->depth != 0)
				continue;
			if (next->off >= f->off && next->off < f->off + f->len)
				f->len = (uint16_t)(next->off - f->off);
			break;
		}
	}
}
