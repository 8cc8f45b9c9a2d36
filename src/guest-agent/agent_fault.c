// SPDX-License-Identifier: GPL-2.0-or-later
#include "agent_fault.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_server.h"
#include "log.h"

static void fault_crash(void *userdata, int status)
{
	if (status < 0) {
		log_warning_errno(status, "Not crashing as the host asked: the reply was not delivered: %m");
		return;
	}
	log_warning("Fault injection: killing the agent with SIGKILL, as the host asked");
	/* SIGKILL, not exit() or abort(): no handler, no flush, no cleanup, like a real death. */
	(void)kill(getpid(), SIGKILL);
}

static void fault_stall(void *userdata, int status)
{
	int64_t ms = (int64_t)(uintptr_t)userdata;
	struct timespec until;

	if (status < 0) {
		log_warning_errno(status, "Not stalling as the host asked: the reply was not delivered: %m");
		return;
	}
	log_warning("Fault injection: stalling the agent for %lld ms, as the host asked", (long long)ms);
	/*
	 * A blocking sleep in the loop's own thread, on purpose: the drill needs an agent that
	 * looks hung, as if SIGSTOPped: nothing read, nothing answered, no timer run. A timer would
	 * only delay one reply while the loop kept serving. What the host sends meanwhile waits in
	 * the channel and is answered once the loop runs again. Signals only interrupt the sleep:
	 * the deadline is absolute, and libuv handles them after.
	 */
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
	log_info("Fault injection: stall of %lld ms over, serving again", (long long)ms);
}

void agent_fault_run(agent_job *j, bool allowed)
{
	json_object *args = agent_job_args(j), *o;
	const char *kind = agent_args_get_string(args, "kind", "");
	int64_t ms = agent_args_get_int(args, "ms", 0);
	bool crash = !strcmp(kind, "crash");

	if (!allowed)
		return agent_job_fail(j, AGENT_ERROR_UNSUPPORTED,
				      "Fault injection is off: the agent was started without --allow-faults");
	/* The table allows ms 0 (crash's "none"); which kind needs which, it cannot say. */
	if (crash && ms != 0)
		return agent_job_fail(j, AGENT_ERROR_INVALID_ARGUMENT,
				      "argument 'ms' is for kind 'stall' only, not 'crash'");
	if (!crash && ms < 1)
		return agent_job_fail(j, AGENT_ERROR_INVALID_ARGUMENT,
				      "kind 'stall' needs argument 'ms' within 1..%d", AGENT_PROTOCOL_MAX_FAULT_STALL_MS);
	o = json_object_new_object();
	if (!o)
		return agent_job_fail(j, AGENT_ERROR_FAILED, "Out of memory");
	json_object_object_add(o, "kind", json_object_new_string(kind));
	if (!crash)
		json_object_object_add(o, "ms", json_object_new_int64(ms));
	agent_job_return_then(j, o, crash ? fault_crash : fault_stall, (void *)(uintptr_t)ms);
}
