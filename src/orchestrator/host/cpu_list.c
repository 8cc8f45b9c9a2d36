// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/cpu_list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cpu_list_number(const char **p, unsigned long *ret)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoul(*p, &end, 10);
	if (errno || *ret >= CPU_SETSIZE)
		return -ERANGE;
	*p = end;
	return 0;
}

int cpu_list_parse(const char *s, cpu_set_t *ret, char *why, size_t why_size)
{
	const char *p = s;
	cpu_set_t set;

	CPU_ZERO(&set);
	if (!*s) {
		snprintf(why, why_size, "an empty CPU list");
		return -EINVAL;
	}
	while (*p) {
		const char *start = p;
		unsigned long a, b;

		if (cpu_list_number(&p, &a) < 0)
			goto bad;
		b = a;
		if (*p == '-') {
			p++;
			if (cpu_list_number(&p, &b) < 0 || b < a)
				goto bad;
		}
		if (*p && *p != ',')
			goto bad;
		for (unsigned long c = a; c <= b; c++)
			CPU_SET(c, &set);
		if (*p == ',' && !*++p) {
			snprintf(why, why_size, "'%.32s' ends with a comma", s);
			return -EINVAL;
		}
		continue;
bad:
		snprintf(why, why_size,
			 "'%.*s' in '%.32s' is not a CPU number 0..%d or a range like 2-7",
			 (int)strcspn(start, ","), start, s, CPU_SETSIZE - 1);
		return -EINVAL;
	}
	*ret = set;
	return 0;
}

char *cpu_list_format(const cpu_set_t *set, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && o < size; c++) {
		int end = c;
		int n;

		if (!CPU_ISSET(c, set))
			continue;
		while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, set))
			end++;
		n = end > c ? snprintf(buf + o, size - o, "%s%d-%d", o ? "," : "", c, end)
			    : snprintf(buf + o, size - o, "%s%d", o ? "," : "", c);
		if (n < 0 || (size_t)n >= size - o) {
			buf[size - 1] = '\0';
			break;
		}
		o += (size_t)n;
		c = end;
	}
	return buf;
}
