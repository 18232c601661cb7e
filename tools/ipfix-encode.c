/* SPDX-License-Identifier: BSD-2-Clause */
#include "ipfix-encode.h"

#include <errno.h>
#include <string.h>

/* Information element ids, from the IANA registry (RFC 7012, 5102, 7133). */
enum {
	IE_OCTET_DELTA_COUNT = 1,
	IE_PACKET_DELTA_COUNT = 2,
	IE_PROTOCOL_IDENTIFIER = 4,
	IE_TCP_CONTROL_BITS = 6,
	IE_SOURCE_TRANSPORT_PORT = 7,
	IE_SOURCE_IPV4_ADDRESS = 8,
	IE_DESTINATION_TRANSPORT_PORT = 11,
	IE_DESTINATION_IPV4_ADDRESS = 12,
	IE_SOURCE_IPV6_ADDRESS = 27,
	IE_DESTINATION_IPV6_ADDRESS = 28,
	IE_ICMP_TYPE_CODE_IPV4 = 32,
	IE_SOURCE_MAC_ADDRESS = 56,
	IE_VLAN_ID = 58,
	IE_DESTINATION_MAC_ADDRESS = 80,
	IE_FLOW_END_REASON = 136,
	IE_ICMP_TYPE_CODE_IPV6 = 139,
	IE_FLOW_ID = 148,
	IE_FLOW_START_MILLISECONDS = 152,
	IE_FLOW_END_MILLISECONDS = 153,
	IE_BIFLOW_DIRECTION = 239,
	IE_DOT1Q_CUSTOMER_VLAN_ID = 245,
	IE_ETHERNET_TYPE = 256,
};

#define FIELDS_MAX 24
#define TH_SYN 0x02

struct ie {
	uint16_t id;
	uint16_t len;
	bool reverse; /* RFC 5103: enterprise 29305, the b side */
};

#define F(id, len) { id, len, false }
#define R(id, len) { id, len, true }

/* What every template starts with: the flow, its times, both sides' counters, why it was exported. */
#define COMMON_FIELDS                                                                                   \
	F(IE_FLOW_ID, 8), F(IE_FLOW_START_MILLISECONDS, 8), F(IE_FLOW_END_MILLISECONDS, 8),            \
		F(IE_PACKET_DELTA_COUNT, 8), F(IE_OCTET_DELTA_COUNT, 8), R(IE_PACKET_DELTA_COUNT, 8),  \
		R(IE_OCTET_DELTA_COUNT, 8), F(IE_FLOW_END_REASON, 1), F(IE_BIFLOW_DIRECTION, 1),       \
		F(IE_VLAN_ID, 2), F(IE_DOT1Q_CUSTOMER_VLAN_ID, 2)
#define V4_FIELDS F(IE_SOURCE_IPV4_ADDRESS, 4), F(IE_DESTINATION_IPV4_ADDRESS, 4), F(IE_PROTOCOL_IDENTIFIER, 1)
#define V6_FIELDS F(IE_SOURCE_IPV6_ADDRESS, 16), F(IE_DESTINATION_IPV6_ADDRESS, 16), F(IE_PROTOCOL_IDENTIFIER, 1)
#define PORT_FIELDS                                                                              \
	F(IE_SOURCE_TRANSPORT_PORT, 2), F(IE_DESTINATION_TRANSPORT_PORT, 2), F(IE_TCP_CONTROL_BITS, 2), \
		R(IE_TCP_CONTROL_BITS, 2)

static const struct ie t_v4_ports[] = { COMMON_FIELDS, V4_FIELDS, PORT_FIELDS };
static const struct ie t_v6_ports[] = { COMMON_FIELDS, V6_FIELDS, PORT_FIELDS };
static const struct ie t_v4_icmp[] = { COMMON_FIELDS, V4_FIELDS, F(IE_ICMP_TYPE_CODE_IPV4, 2) };
static const struct ie t_v6_icmp[] = { COMMON_FIELDS, V6_FIELDS, F(IE_ICMP_TYPE_CODE_IPV6, 2) };
static const struct ie t_v4_other[] = { COMMON_FIELDS, V4_FIELDS };
static const struct ie t_v6_other[] = { COMMON_FIELDS, V6_FIELDS };
static const struct ie t_mac[] = { COMMON_FIELDS, F(IE_SOURCE_MAC_ADDRESS, 6), F(IE_DESTINATION_MAC_ADDRESS, 6),
				   F(IE_ETHERNET_TYPE, 2) };

#define TEMPLATE(a) { a, sizeof(a) / sizeof(a[0]) }
static const struct {
	const struct ie *fields;
	size_t n;
} templates[IPFIX_N_TEMPLATES] = {
	TEMPLATE(t_v4_ports), TEMPLATE(t_v6_ports), TEMPLATE(t_v4_icmp), TEMPLATE(t_v6_icmp),
	TEMPLATE(t_v4_other), TEMPLATE(t_v6_other), TEMPLATE(t_mac),
};

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	return put16(put16(p, (uint16_t)(v >> 16)), (uint16_t)v);
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	return put32(put32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

void ipfix_msg_start(struct ipfix_msg *m, uint8_t *buf, size_t max)
{
	*m = (struct ipfix_msg){ .buf = buf, .max = max > IPFIX_MESSAGE_MAX ? IPFIX_MESSAGE_MAX : max };
	m->len = IPFIX_HEADER_LEN;
}

bool ipfix_msg_empty(const struct ipfix_msg *m)
{
	return m->len == IPFIX_HEADER_LEN;
}

static void close_set(struct ipfix_msg *m)
{
	if (m->set_off)
		put16(m->buf + m->set_off + 2, (uint16_t)(m->len - m->set_off));
	m->set_off = 0;
}

/*
 * Makes room for a record of len bytes in a set with id set_id, opening that
 * set if the open one is another. Returns where the record goes, or NULL
 * when the message cannot take it.
 */
static uint8_t *reserve(struct ipfix_msg *m, uint16_t set_id, size_t len)
{
	bool new_set = m->set_off == 0 || m->set_id != set_id;
	size_t need = len + (new_set ? IPFIX_SET_HEADER_LEN : 0);
	uint8_t *p;

	if (need > m->max - m->len)
		return NULL;
	if (new_set) {
		close_set(m);
		m->set_off = m->len;
		m->set_id = set_id;
		put16(put16(m->buf + m->len, set_id), 0);
		m->len += IPFIX_SET_HEADER_LEN;
	}
	p = m->buf + m->len;
	m->len += len;
	return p;
}

static size_t template_len(enum ipfix_template t)
{
	const struct ie *f = templates[t - IPFIX_T_V4_PORTS].fields;
	size_t n = templates[t - IPFIX_T_V4_PORTS].n, len = 4;

	for (size_t i = 0; i < n; i++)
		len += f[i].reverse ? 8 : 4;
	return len;
}

static size_t record_len(enum ipfix_template t)
{
	const struct ie *f = templates[t - IPFIX_T_V4_PORTS].fields;
	size_t n = templates[t - IPFIX_T_V4_PORTS].n, len = 0;

	for (size_t i = 0; i < n; i++)
		len += f[i].len;
	return len;
}

int ipfix_msg_add_template(struct ipfix_msg *m, enum ipfix_template t)
{
	const struct ie *f = templates[t - IPFIX_T_V4_PORTS].fields;
	size_t n = templates[t - IPFIX_T_V4_PORTS].n;
	uint8_t *p = reserve(m, IPFIX_SET_TEMPLATE, template_len(t));

	if (!p)
		return -ENOBUFS;
	p = put16(put16(p, (uint16_t)t), (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		/* The enterprise bit, then the enterprise number after the length. */
		p = put16(put16(p, (uint16_t)(f[i].id | (f[i].reverse ? 0x8000 : 0))), f[i].len);
		if (f[i].reverse)
			p = put32(p, IPFIX_PEN_REVERSE);
	}
	m->templates++;
	return 0;
}

uint64_t ipfix_ms(int64_t us)
{
	return us < 0 ? 0 : (uint64_t)us / 1000u;
}

uint8_t ipfix_end_reason(uint8_t end)
{
	switch (end) {
	case WL_FLOW_IDLE:
		return 1; /* idle timeout */
	case WL_FLOW_ACTIVE:
		return 2; /* active timeout */
	case WL_FLOW_FIN:
	case WL_FLOW_RST:
		return 3; /* end of flow detected */
	case WL_FLOW_EOF:
		return 4; /* forced end */
	default:
		return 5; /* lack of resources: evicted */
	}
}

/*
 * biflowDirection (RFC 5103): 1, the source is the initiator, when both
 * sides sent a SYN and side a (who sent the first packet seen) sent the
 * first one; otherwise 0, arbitrary: a capture can begin mid-conversation.
 */
static uint8_t biflow_direction(const struct wl_flow_record *r)
{
	return (r->flags & WL_FLOW_TCP) && (r->tcp.flags[0] & TH_SYN) && (r->tcp.flags[1] & TH_SYN) ? 1 : 0;
}

static uint16_t tcp_flags(const struct wl_flow_record *r, int side)
{
	return (r->flags & WL_FLOW_TCP) ? (uint16_t)(r->tcp.flags[side] & 0x0fff) : 0;
}

static uint8_t *put_counter(uint8_t *p, const struct ie *e, const struct ipfix_flow *f)
{
	int side = e->reverse ? 1 : 0;

	return put64(p, e->id == IE_PACKET_DELTA_COUNT ? f->packets[side] : f->bytes[side]);
}

static uint8_t *put_field(uint8_t *p, const struct ie *e, const struct ipfix_flow *f)
{
	const struct wl_flow_record *r = f->rec;

	switch (e->id) {
	case IE_FLOW_ID:
		return put64(p, r->id);
	case IE_FLOW_START_MILLISECONDS:
		return put64(p, ipfix_ms(r->first_us));
	case IE_FLOW_END_MILLISECONDS:
		return put64(p, ipfix_ms(r->last_us));
	case IE_PACKET_DELTA_COUNT:
	case IE_OCTET_DELTA_COUNT:
		return put_counter(p, e, f);
	case IE_FLOW_END_REASON:
		*p = ipfix_end_reason(r->end);
		return p + 1;
	case IE_BIFLOW_DIRECTION:
		*p = biflow_direction(r);
		return p + 1;
	case IE_VLAN_ID:
		return put16(p, r->n_vlan > 0 ? r->vlan[0] : 0);
	case IE_DOT1Q_CUSTOMER_VLAN_ID:
		return put16(p, r->n_vlan > 1 ? r->vlan[1] : 0);
	case IE_SOURCE_IPV4_ADDRESS:
	case IE_SOURCE_IPV6_ADDRESS:
		memcpy(p, r->addr[0].b, e->len);
		return p + e->len;
	case IE_DESTINATION_IPV4_ADDRESS:
	case IE_DESTINATION_IPV6_ADDRESS:
		memcpy(p, r->addr[1].b, e->len);
		return p + e->len;
	case IE_PROTOCOL_IDENTIFIER:
		*p = r->ipproto;
		return p + 1;
	case IE_SOURCE_TRANSPORT_PORT:
		return put16(p, r->port[0]);
	case IE_DESTINATION_TRANSPORT_PORT:
		return put16(p, r->port[1]);
	case IE_TCP_CONTROL_BITS:
		return put16(p, tcp_flags(r, e->reverse ? 1 : 0));
	case IE_ICMP_TYPE_CODE_IPV4:
	case IE_ICMP_TYPE_CODE_IPV6:
		return put16(p, (r->flags & WL_FLOW_ICMP) ? (uint16_t)(r->icmp_type << 8 | r->icmp_code) : 0);
	case IE_SOURCE_MAC_ADDRESS:
		memcpy(p, r->mac[0], 6);
		return p + 6;
	case IE_DESTINATION_MAC_ADDRESS:
		memcpy(p, r->mac[1], 6);
		return p + 6;
	case IE_ETHERNET_TYPE:
		return put16(p, r->ethertype);
	default:
		/* Every element of the tables above has a case: nothing else is ever written. */
		memset(p, 0, e->len);
		return p + e->len;
	}
}

int ipfix_msg_add_flow(struct ipfix_msg *m, const struct ipfix_flow *f)
{
	enum ipfix_template t = ipfix_template_for(f->rec);
	const struct ie *fields = templates[t - IPFIX_T_V4_PORTS].fields;
	size_t n = templates[t - IPFIX_T_V4_PORTS].n;
	uint8_t *p = reserve(m, (uint16_t)t, record_len(t));

	if (!p)
		return -ENOBUFS;
	for (size_t i = 0; i < n; i++)
		p = put_field(p, &fields[i], f);
	m->records++;
	return 0;
}

size_t ipfix_msg_finish(struct ipfix_msg *m, uint32_t export_time, uint32_t seq, uint32_t domain)
{
	uint8_t *p = m->buf;

	close_set(m);
	p = put16(put16(p, IPFIX_VERSION), (uint16_t)m->len);
	put32(put32(put32(p, export_time), seq), domain);
	return m->len;
}

enum ipfix_template ipfix_template_for(const struct wl_flow_record *rec)
{
	bool v6 = rec->addr[0].family == 6;

	if (rec->addr[0].family != 4 && !v6)
		return IPFIX_T_MAC;
	if (rec->flags & WL_FLOW_PORTS)
		return v6 ? IPFIX_T_V6_PORTS : IPFIX_T_V4_PORTS;
	if ((!v6 && rec->ipproto == 1) || (v6 && rec->ipproto == 58))
		return v6 ? IPFIX_T_V6_ICMP : IPFIX_T_V4_ICMP;
	return v6 ? IPFIX_T_V6_OTHER : IPFIX_T_V4_OTHER;
}
