/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The frames `announce` sends so that switches learn the VM's MAC on its new port at once: a
 * gratuitous ARP per IPv4 address and an unsolicited neighbour advertisement (RFC 4861 7.2.6)
 * per IPv6 address. Built here, sent by the backend on a packet socket.
 */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_ANNOUNCE_FRAME_MAX 128

/* Each returns the frame length written to buf (at least AGENT_ANNOUNCE_FRAME_MAX bytes). */
size_t agent_announce_garp(uint8_t *buf, const uint8_t mac[6], const struct in_addr *ip);
size_t agent_announce_na(uint8_t *buf, const uint8_t mac[6], const struct in6_addr *ip);
