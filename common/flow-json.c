/* SPDX-License-Identifier: BSD-2-Clause */
/* The v1 flow JSON, with the writer of json-writer.h. */
#include "flow-json.h"

#include "json-writer.h"

#include <errno.h>

static void kv_time_us(struct jw *w, const char *quoted_key, size_t n, int64_t us)
{
	int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);

	key_n(w, quoted_key, n);
	put_time(w, sec, (uint32_t)(us - sec * 1000000));
}

#define kv_time(w, k, us) kv_time_us((w), "\"" k "\":", sizeof(k) + 2, (us))

static void put_endpoints(struct jw *w, const struct wl_flow_record *f)
{
	bool ip = f->l3 == WL_L3_IPV4 || f->l3 == WL_L3_IPV6;

	key(w, "a");
	ip ? put_addr(w, &f->addr[0]) : put_mac(w, f->mac[0]);
	key(w, "b");
	ip ? put_addr(w, &f->addr[1]) : put_mac(w, f->mac[1]);
	if (f->flags & WL_FLOW_PORTS) {
		kv_u64(w, "a_port", f->port[0]);
		kv_u64(w, "b_port", f->port[1]);
	}
}

static void put_l3(struct jw *w, const struct wl_flow_record *f)
{
	static const char hex[] = "0123456789abcdef";
	char text[7] = { '0', 'x' };

	if (f->l3 == WL_L3_IPV4 || f->l3 == WL_L3_IPV6 || f->l3 == WL_L3_ARP) {
		kv_word(w, "l3", f->l3 == WL_L3_IPV4 ? "ipv4" : f->l3 == WL_L3_IPV6 ? "ipv6" : "arp");
		return;
	}
	for (int i = 0; i < 4; i++)
		text[2 + i] = hex[(f->ethertype >> (12 - 4 * i)) & 15];
	text[6] = '\0';
	kv_word(w, "l3", text);
}

static void put_vlan_outer(struct jw *w, const struct wl_flow_record *f)
{
	if (f->n_vlan) {
		key(w, "vlan");
		put_char(w, '[');
		for (unsigned i = 0; i < f->n_vlan && i < WL_FLOW_VLAN_MAX; i++) {
			if (i)
				put_char(w, ',');
			put_u64(w, f->vlan[i]);
		}
		put_char(w, ']');
	}
	if (f->flags & WL_FLOW_OUTER) {
		key(w, "outer");
		open_obj(w);
		key(w, "a");
		put_addr(w, &f->outer[0]);
		key(w, "b");
		put_addr(w, &f->outer[1]);
		close_obj(w);
	}
}

/* Milliseconds with the microseconds kept: three decimals. */
static void put_ms(struct jw *w, uint32_t us)
{
	char frac[4];

	put_u64(w, us / 1000);
	frac[0] = '.';
	frac[1] = (char)('0' + us % 1000 / 100);
	frac[2] = (char)('0' + us % 100 / 10);
	frac[3] = (char)('0' + us % 10);
	put_mem(w, frac, sizeof(frac));
}

static void put_tcp(struct jw *w, const struct wl_flow_tcp *t)
{
	key(w, "tcp");
	open_obj(w);
	kv_word(w, "state", wl_tcp_state_name(t->state));
	if (t->rtt_us != UINT32_MAX) {
		key(w, "rtt_ms");
		put_ms(w, t->rtt_us);
	}
	kv_u64(w, "a_flags", t->flags[0]);
	kv_u64(w, "b_flags", t->flags[1]);
	kv_u64(w, "a_retransmissions", t->retransmissions[0]);
	kv_u64(w, "b_retransmissions", t->retransmissions[1]);
	kv_u64(w, "a_out_of_order", t->out_of_order[0]);
	kv_u64(w, "b_out_of_order", t->out_of_order[1]);
	kv_u64(w, "a_dup_acks", t->dup_acks[0]);
	kv_u64(w, "b_dup_acks", t->dup_acks[1]);
	kv_u64(w, "a_zero_windows", t->zero_windows[0]);
	kv_u64(w, "b_zero_windows", t->zero_windows[1]);
	kv_u64(w, "resets", t->resets);
	close_obj(w);
}

static void put_icmp(struct jw *w, const struct wl_flow_record *f)
{
	key(w, "icmp");
	open_obj(w);
	kv_u64(w, "type", f->icmp_type);
	kv_u64(w, "code", f->icmp_code);
	if (f->flags & WL_FLOW_ECHO)
		kv_u64(w, "id", f->icmp_id);
	close_obj(w);
}

long wl_json_flow(const struct wl_flow_record *f, const char *sensor, char *buf, size_t size)
{
	struct jw w = { .p = buf, .end = buf + size };

	open_obj(&w);
	if (sensor)
		kv_str(&w, "sensor", sensor);
	kv_u64(&w, "id", f->id);
	put_l3(&w, f);
	if (f->l3 == WL_L3_IPV4 || f->l3 == WL_L3_IPV6)
		kv_u64(&w, "ipproto", f->ipproto);
	put_endpoints(&w, f);
	put_vlan_outer(&w, f);
	kv_time(&w, "first", f->first_us);
	kv_time(&w, "last", f->last_us);
	kv_u64(&w, "a_packets", f->packets[0]);
	kv_u64(&w, "a_bytes", f->bytes[0]);
	kv_u64(&w, "b_packets", f->packets[1]);
	kv_u64(&w, "b_bytes", f->bytes[1]);
	if (f->app != WL_P_UNKNOWN)
		kv_word(&w, "app", wl_proto_name((enum wl_proto)f->app));
	if (f->name[0])
		kv_str(&w, "name", f->name);
	if (f->ja4[0])
		kv_str(&w, "ja4", f->ja4);
	if (f->ja3s[0])
		kv_str(&w, "ja3s", f->ja3s);
	kv_word(&w, "end", wl_flow_end_name((enum wl_flow_end)f->end));
	if (f->flags & WL_FLOW_TCP)
		put_tcp(&w, &f->tcp);
	if (f->flags & WL_FLOW_ICMP)
		put_icmp(&w, f);
	close_obj(&w);
	put_char(&w, '\n');
	if (w.overflow)
		return -ENOBUFS;
	return (long)(w.p - buf);
}
