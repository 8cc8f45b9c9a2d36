// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_announce.h"

#include <arpa/inet.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t agent_announce_garp(uint8_t *buf, const uint8_t mac[6], const struct in_addr *ip)
{
	/* Ethernet minimum frame (without FCS): the NIC would pad, but tests compare bytes. */
	memset(buf, 0, 60);
	memset(buf, 0xff, 6);
	memcpy(buf + 6, mac, 6);
	put16(buf + 12, 0x0806);
	put16(buf + 14, 1);      /* Ethernet */
	put16(buf + 16, 0x0800); /* IPv4 */
	buf[18] = 6;
	buf[19] = 4;
	put16(buf + 20, 1); /* request, sender == target: an announcement (RFC 5227) */
	memcpy(buf + 22, mac, 6);
	memcpy(buf + 28, &ip->s_addr, 4);
	/* Target hardware address stays zero. */
	memcpy(buf + 38, &ip->s_addr, 4);
	return 60;
}

static uint16_t checksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t checksum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

size_t agent_announce_na(uint8_t *buf, const uint8_t mac[6], const struct in6_addr *ip)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	const size_t icmp_len = 32;
	uint8_t *ip6 = buf + 14, *icmp = ip6 + 40;
	uint32_t sum;

	memset(buf, 0, 14 + 40 + icmp_len);
	buf[0] = 0x33;
	buf[1] = 0x33;
	buf[5] = 0x01; /* 33:33:00:00:00:01, the all-nodes group */
	memcpy(buf + 6, mac, 6);
	put16(buf + 12, 0x86dd);

	ip6[0] = 0x60;
	put16(ip6 + 4, (uint16_t)icmp_len);
	ip6[6] = 58;   /* ICMPv6 */
	ip6[7] = 255;  /* receivers drop neighbour discovery with any other hop limit */
	memcpy(ip6 + 8, ip, 16);
	memcpy(ip6 + 24, all_nodes, 16);

	icmp[0] = 136;  /* neighbour advertisement */
	icmp[4] = 0x20; /* Override: replace what caches hold; not Solicited */
	memcpy(icmp + 8, ip, 16);
	icmp[24] = 2; /* target link-layer address option, 8 bytes */
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);

	/* Pseudo-header: source, destination, upper-layer length, next header. */
	sum = checksum_add(0, ip6 + 8, 32);
	sum += (uint32_t)icmp_len;
	sum += 58;
	sum = checksum_add(sum, icmp, icmp_len);
	put16(icmp + 2, checksum_fold(sum));
	return 14 + 40 + icmp_len;
}
