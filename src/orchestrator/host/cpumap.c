// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/cpumap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"

int cpumap_add(cpumap *m, unsigned long vcpu, unsigned long pcpu, char *why, size_t why_size)
{
	if (vcpu >= CPUMAP_MAX_VCPUS) {
		snprintf(why, why_size, "vCPU %lu is out of range (a VM has at most %d)", vcpu,
			 CPUMAP_MAX_VCPUS);
		return -EINVAL;
	}
	if (pcpu >= CPU_SETSIZE) {
		snprintf(why, why_size, "host CPU %lu is out of range (0..%d)", pcpu, CPU_SETSIZE - 1);
		return -EINVAL;
	}
	for (unsigned i = 0; i < CPUMAP_MAX_VCPUS; i++) {
		if (i < m->n && i == vcpu && m->pcpu[i] >= 0) {
			snprintf(why, why_size, "vCPU %lu is mapped twice", vcpu);
			return -EINVAL;
		}
		if (i < m->n && m->pcpu[i] == (int)pcpu) {
			snprintf(why, why_size, "host CPU %lu is given to vCPU %u and vCPU %lu", pcpu,
				 i, vcpu);
			return -EINVAL;
		}
	}
	while (m->n <= vcpu)
		m->pcpu[m->n++] = -1;
	m->pcpu[vcpu] = (int)pcpu;
	return 0;
}

int cpumap_check_complete(const cpumap *m, char *why, size_t why_size)
{
	if (m->n == 0) {
		snprintf(why, why_size, "maps no vCPU");
		return -EINVAL;
	}
	for (unsigned i = 0; i < m->n; i++)
		if (m->pcpu[i] < 0) {
			snprintf(why, why_size, "vCPU %u is not mapped (vCPUs 0..%u must all be)", i,
				 m->n - 1);
			return -EINVAL;
		}
	return 0;
}

/* A decimal number of at most 5 digits at *p; the rest of the line is the caller's. */
static int cpumap_number(const char **p, const char *end, unsigned long *ret)
{
	unsigned long v = 0;
	int digits = 0;

	while (*p < end && **p >= '0' && **p <= '9') {
		if (++digits > 5)
			return -ERANGE;
		v = v * 10 + (unsigned long)(**p - '0');
		(*p)++;
	}
	if (!digits)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int cpumap_fail(char **ret_error, const char *origin, unsigned line, const char *why)
{
	if (ret_error && (line ? asprintf(ret_error, "%s: line %u: %s", origin, line, why) :
				 asprintf(ret_error, "%s: %s", origin, why)) < 0)
		*ret_error = NULL;
	return -EINVAL;
}

int cpumap_parse_text(const char *text, size_t len, const char *origin, cpumap *ret,
		      char **ret_error)
{
	const char *p = text, *end = text + len;
	cpumap m = { 0 };
	char why[160];
	unsigned line = 0;

	if (len > CPUMAP_FILE_MAX)
		return cpumap_fail(ret_error, origin, 0, "larger than 4096 bytes; one \"VCPU PCPU\" pair a line");
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		unsigned long vcpu, pcpu;

		eol = eol ? eol : end;
		line++;
		while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == eol || *p == '#') {
			p = eol + (eol < end);
			continue;
		}
		if (cpumap_number(&p, eol, &vcpu) < 0 || p == eol || (*p != ' ' && *p != '\t'))
			return cpumap_fail(ret_error, origin, line,
					   "expected \"VCPU PCPU\", two numbers like \"0 1\"");
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (cpumap_number(&p, eol, &pcpu) < 0)
			return cpumap_fail(ret_error, origin, line,
					   "expected \"VCPU PCPU\", two numbers like \"0 1\"");
		while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p != eol)
			return cpumap_fail(ret_error, origin, line,
					   "unexpected text after \"VCPU PCPU\"");
		if (cpumap_add(&m, vcpu, pcpu, why, sizeof(why)) < 0)
			return cpumap_fail(ret_error, origin, line, why);
		p = eol + (eol < end);
	}
	if (cpumap_check_complete(&m, why, sizeof(why)) < 0) {
		if (ret_error && asprintf(ret_error, "%s: %s", origin, why) < 0)
			*ret_error = NULL;
		return -EINVAL;
	}
	*ret = m;
	return 0;
}

int cpumap_load(const char *path, cpumap *ret, char **ret_error)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char buf[CPUMAP_FILE_MAX + 1];
	size_t len = 0;

	if (fd < 0) {
		int r = -errno;

		if (ret_error && asprintf(ret_error, "%s: cannot open the cpumap: %s", path,
					  strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (memchr(buf, '\0', len))
		return cpumap_fail(ret_error, path, 0, "has a NUL byte; a cpumap is text");
	return cpumap_parse_text(buf, len, path, ret, ret_error);
}

void cpumap_cpus(const cpumap *m, cpu_set_t *ret)
{
	CPU_ZERO(ret);
	for (unsigned i = 0; i < m->n; i++)
		if (m->pcpu[i] >= 0)
			CPU_SET(m->pcpu[i], ret);
}

char *cpumap_format(const cpumap *m, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < m->n && o < size; i++) {
		int n = snprintf(buf + o, size - o, "%s%u->%d", i ? " " : "", i, m->pcpu[i]);

		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
	return buf;
}
