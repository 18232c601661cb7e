/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A doubly linked list threaded through an array by index, oldest first:
 * the order in which capd's flow, TLS-reassembly and QUIC tables and
 * webd's flow table time out, evict or reuse their entries. Indexes, not
 * pointers, because the entries live in one preallocated array (half the
 * size of two pointers, and nothing to fix up).
 *
 * Each entry holds a struct wl_idx_link; the functions find it from the
 * array, the size of an entry and the link's offset in it (WL_IDX_ARRAY
 * gives the three), so that one list code serves every table. They are
 * inline: with the size and the offset constant, they compile to what a
 * copy written for the one table would.
 */
#ifndef WL_IDX_LIST_H
#define WL_IDX_LIST_H

#include <stddef.h>
#include <stdint.h>

#define WL_IDX_NONE UINT32_MAX

struct wl_idx_link {
	uint32_t prev, next;
};

struct wl_idx_list {
	uint32_t oldest, newest; /* WL_IDX_NONE when empty */
};

/* The entries of one table, as the list sees them. */
struct wl_idx_array {
	void *base;
	size_t size;   /* of an entry */
	size_t offset; /* of its struct wl_idx_link */
};

/* entries: the array (a pointer to its first entry) of `type`; member: the entry's struct wl_idx_link. */
#define WL_IDX_ARRAY(entries, type, member) ((struct wl_idx_array){ (entries), sizeof(type), offsetof(type, member) })

static inline void wl_idx_list_init(struct wl_idx_list *l)
{
	l->oldest = l->newest = WL_IDX_NONE;
}

static inline struct wl_idx_link *wl_idx_link_of(struct wl_idx_array a, uint32_t i)
{
	return (struct wl_idx_link *)((char *)a.base + (size_t)i * a.size + a.offset);
}

static inline void wl_idx_list_unlink(struct wl_idx_list *l, struct wl_idx_array a, uint32_t i)
{
	struct wl_idx_link *e = wl_idx_link_of(a, i);

	if (e->prev != WL_IDX_NONE)
		wl_idx_link_of(a, e->prev)->next = e->next;
	else
		l->oldest = e->next;
	if (e->next != WL_IDX_NONE)
		wl_idx_link_of(a, e->next)->prev = e->prev;
	else
		l->newest = e->prev;
}

/* Entry i, not in any list, becomes the newest. */
static inline void wl_idx_list_append(struct wl_idx_list *l, struct wl_idx_array a, uint32_t i)
{
	struct wl_idx_link *e = wl_idx_link_of(a, i);

	e->prev = l->newest;
	e->next = WL_IDX_NONE;
	if (l->newest != WL_IDX_NONE)
		wl_idx_link_of(a, l->newest)->next = i;
	else
		l->oldest = i;
	l->newest = i;
}

/* The one after entry i, towards the newest. */
static inline uint32_t wl_idx_list_next(struct wl_idx_array a, uint32_t i)
{
	return wl_idx_link_of(a, i)->next;
}

#endif
