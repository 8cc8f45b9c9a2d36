// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/vf_steering.h"

#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>

#include "host/qemu_tap.h"
#include "log.h"
#include "host/vf_pool.h"
#include "host/vm.h"

const char *vf_event_name(vf_event e)
{
	static const char *const names[_VF_EVENT_MAX] = {
		[VF_EVENT_PREPARE] = "prepare",       [VF_EVENT_PREPARE_INCOMING] = "prepare-incoming",
		[VF_EVENT_STANDBY] = "standby",       [VF_EVENT_SWITCHOVER] = "switchover",
		[VF_EVENT_ACTIVE] = "active",         [VF_EVENT_RELEASE] = "release",
	};

	return e < _VF_EVENT_MAX ? names[e] : "?";
}

static int vf_link_state_netlink(vf_link_state s)
{
	switch (s) {
	case VF_LINK_ENABLE:
		return IFLA_VF_LINK_STATE_ENABLE;
	case VF_LINK_DISABLE:
		return IFLA_VF_LINK_STATE_DISABLE;
	default:
		return IFLA_VF_LINK_STATE_AUTO;
	}
}

vf_change vf_steering_vf_change(vf_event e, const vf_settings *s, const uint8_t mac[6])
{
	vf_change c = VF_CHANGE_NONE;

	switch (e) {
	case VF_EVENT_PREPARE:
	case VF_EVENT_PREPARE_INCOMING:
		c.spoofchk = s->spoofchk;
		c.trust = s->trust;
		c.link_state = vf_link_state_netlink(s->link_state);
		c.set_mac = true;
		if (e == VF_EVENT_PREPARE)
			memcpy(c.mac, mac, 6);
		break;
	case VF_EVENT_STANDBY:
		c.set_mac = true; /* all zero: cleared */
		break;
	case VF_EVENT_ACTIVE:
		c.set_mac = true;
		memcpy(c.mac, mac, 6);
		break;
	case VF_EVENT_RELEASE:
		c.set_mac = true;
		c.link_state = IFLA_VF_LINK_STATE_DISABLE;
		break;
	default:
		break;
	}
	return c;
}

int vf_steering_fdb_action(vf_event e)
{
	switch (e) {
	case VF_EVENT_STANDBY:
	case VF_EVENT_SWITCHOVER:
		return 1;
	case VF_EVENT_ACTIVE:
		return -1;
	default:
		return 0;
	}
}

/* --- netlink, opened on first use and kept: the daemon makes these changes all its life --- */

static vf_netlink *steering_netlink;

static int netlink_vf_change(void *userdata, int pf_ifindex, unsigned vf, const vf_change *c)
{
	int r;

	if (!steering_netlink && (r = vf_netlink_open(&steering_netlink)) < 0)
		return r;
	return vf_netlink_change(steering_netlink, pf_ifindex, vf, c);
}

static int netlink_fdb(void *userdata, int port_ifindex, const uint8_t mac[6], bool add)
{
	int r;

	if (!steering_netlink && (r = vf_netlink_open(&steering_netlink)) < 0)
		return r;
	return bridge_fdb_change(steering_netlink, port_ifindex, mac, add);
}

static int netlink_vf_read(void *userdata, int pf_ifindex, unsigned vf, vf_readout *ret)
{
	int r;

	if (!steering_netlink && (r = vf_netlink_open(&steering_netlink)) < 0)
		return r;
	return vf_netlink_read(steering_netlink, pf_ifindex, vf, ret);
}

static const vf_steering_ops netlink_ops = {
	.vf_change = netlink_vf_change,
	.fdb = netlink_fdb,
	.vf_read = netlink_vf_read,
};
static const vf_steering_ops *steering_ops = &netlink_ops;

void vf_steering_set_ops(const vf_steering_ops *ops)
{
	steering_ops = ops ? ops : &netlink_ops;
}

int vf_steering_apply(vm *v, vf_event e, const char **ret_message)
{
	const host_config *c = vm_get_daemon(v)->config;
	sysfs fs = { .root = c->system_root ? c->system_root : "/" };
	vf_change change;
	vf_pool_port port;
	char tap[IF_NAMESIZE];
	uint8_t mac[6];
	int r, fdb, tap_ifindex;

	*ret_message = NULL;
	if (!vm_get_vf(v) || vf_pool_port_of(vm_get_daemon(v)->pool, vm_get_vf(v), &port) < 0)
		return 0;
	/* A libvirt domain's MAC is known once the domain is here: an incoming one has none yet,
	 * and its VF's MAC is only cleared then. */
	if (mac_parse(vm_get_spec(v)->mac, mac) < 0) {
		if (e != VF_EVENT_PREPARE_INCOMING && e != VF_EVENT_RELEASE) {
			*ret_message = "the VM's MAC cannot be read";
			return -EINVAL;
		}
		memset(mac, 0, sizeof(mac));
	}
	change = vf_steering_vf_change(e, port.settings, mac);
	if (change.set_mac || change.spoofchk >= 0 || change.trust >= 0 || change.link_state >= 0) {
		if (port.pf_ifindex <= 0) {
			*ret_message = "the PF has no network interface to set its VFs through";
			return -ENODEV;
		}
		r = steering_ops->vf_change(steering_ops->userdata, port.pf_ifindex, port.vf_index,
					    &change);
		if (r < 0) {
			*ret_message = "the PF refused the VF's settings";
			return r;
		}
	}
	fdb = vf_steering_fdb_action(e);
	if (!fdb || vm_get_pid(v) <= 0)
		return 0;
	r = qemu_tap_find(&fs, vm_get_pid(v), tap, &tap_ifindex);
	if (r < 0) {
		*ret_message = "the standby's tap cannot be found (/proc/PID/fdinfo)";
		return r;
	}
	r = steering_ops->fdb(steering_ops->userdata, tap_ifindex, mac, fdb > 0);
	if (r < 0)
		*ret_message = "the bridge refused the forwarding entry on the standby's tap";
	return r;
}

int vf_steering_check_taken_over(vm *v, const char *vf, char *why, size_t why_size)
{
	vf_pool_port port;
	vf_readout now;
	uint8_t mac[6];
	char has[64];
	int r;

	if (vf_pool_port_of(vm_get_daemon(v)->pool, vf, &port) < 0)
		return 0;
	if (mac_parse(vm_get_spec(v)->mac, mac) < 0) {
		snprintf(why, why_size, "the VM's MAC '%s' cannot be read", vm_get_spec(v)->mac);
		return -EINVAL;
	}
	r = port.pf_ifindex > 0 && steering_ops->vf_read ?
		    steering_ops->vf_read(steering_ops->userdata, port.pf_ifindex, port.vf_index, &now) :
		    -ENODEV;
	if (r < 0) {
		snprintf(why, why_size, "VF %s's MAC cannot be read through its PF %s (VF %u): %s",
			 vf, port.pf_ifname ? port.pf_ifname : "(no interface)", port.vf_index,
			 strerror(-r));
		return r;
	}
	if (memcmp(now.mac, mac, sizeof(mac)) == 0)
		return 0;
	if (memcmp(now.mac, (const uint8_t[6]){ 0 }, sizeof(now.mac)) == 0)
		snprintf(has, sizeof(has), "no MAC set (its driver in the guest picked one)");
	else
		snprintf(has, sizeof(has), "MAC %02x:%02x:%02x:%02x:%02x:%02x", now.mac[0],
			 now.mac[1], now.mac[2], now.mac[3], now.mac[4], now.mac[5]);
	snprintf(why, why_size,
		 "VF %s has %s, not the VM's %s: the guest's bond took the VF's, and a destination "
		 "gives its VF the VM's through its PF, where spoof checking cuts the bond off. Give "
		 "the VF the VM's MAC before the VM starts ('ip link set %s vf %u mac %s', or "
		 "libvirt's <interface type='hostdev'> with <mac address='%s'/>), then take it over",
		 vf, has, vm_get_spec(v)->mac, port.pf_ifname, port.vf_index, vm_get_spec(v)->mac,
		 vm_get_spec(v)->mac);
	return -EADDRNOTAVAIL;
}

int vf_steering_link(vm *v, bool down, const char **ret_message)
{
	vf_change change = VF_CHANGE_NONE;
	vf_pool_port port;
	int r;

	*ret_message = NULL;
	r = vm_get_vf(v) ? vf_pool_port_of(vm_get_daemon(v)->pool, vm_get_vf(v), &port) : -ENOENT;
	if (r < 0) {
		*ret_message = r == -EOPNOTSUPP ?
				       "only the VFs of an sriov pool are set through their PF" :
				       "the VM holds no VF of this host's pool";
		return r;
	}
	if (port.pf_ifindex <= 0) {
		*ret_message = "the PF has no network interface to set its VFs through";
		return -ENODEV;
	}
	change.link_state = down ? IFLA_VF_LINK_STATE_DISABLE :
				   vf_link_state_netlink(port.settings->link_state);
	r = steering_ops->vf_change(steering_ops->userdata, port.pf_ifindex, port.vf_index, &change);
	if (r < 0)
		*ret_message = r == -EOPNOTSUPP ? "the PF's driver has no per-VF link state" :
						  "the PF refused the VF's link state";
	return r;
}

int vf_steering_apply_logged(vm *v, vf_event e)
{
	const char *message;
	int r = vf_steering_apply(v, e, &message);

	if (r < 0)
		log_warning_errno(r, "%s: VF %s at %s: %s: %m", vm_get_name(v), vm_get_vf(v),
				  vf_event_name(e), message);
	return r;
}
