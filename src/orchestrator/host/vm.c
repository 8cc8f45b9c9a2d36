// SPDX-License-Identifier: GPL-2.0-or-later
#include "host/vm.h"
#ifdef HAVE_LIBVIRT
#include "libvirt/vm_backend_libvirt.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "log.h"
#include "migration/migration_job.h"
#include "host/cpu_pinning.h"
#include "host/qemu_argv.h"
#include "host/vf_steering.h"
#include "host/vm_record.h"
#include "daemon/state_file.h"

#define VM_QUIT_TIMEOUT_MS 10000
#define VM_QMP_SOCKET_WAIT_MS 5000

/* Opaque outside the registry (host/vm.h's accessors): the record vm_save() writes is this. */
struct vm {
	host_daemon *daemon;
	char *name;
	vm_spec *spec;
	char *run_dir;
	pid_t pid;	/* 0 while not running */
	char *vf;	/* the passthrough device it holds (from the pool), or NULL */
	cpumap *pinned; /* the host CPUs its vCPUs own here (host/cpu_pinning.h), or NULL */
	bool vf_plugged;
	bool incoming;	  /* this host is the destination of an unfinished migration */
	vm_status status; /* set through vm_set_status() */
	qmp_client *qmp;
	agent_client *agent;
	struct migration_job *job; /* the migration this VM takes part in as its source, if any */
	struct dest_job *incoming_job; /* ... or as its destination */

	int pidfd;
	uv_poll_t *pid_watch;
	vm_done_cb stop_done; /* a stop in progress */
	void *stop_userdata;
	uv_timer_t *stop_timer;
	struct vm *next;
};

vm *vm_find(host_daemon *d, const char *name)
{
	for (vm *v = d->vms; v; v = v->next)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

static char *vm_record_path(const vm *v)
{
	char *p;

	return asprintf(&p, "%s/vms/%s.json", v->daemon->config->state_dir, v->name) < 0 ? NULL : p;
}

int vm_new(host_daemon *d, vm_spec *spec, vm **ret)
{
	vm *v;

	if (vm_find(d, spec->name)) {
		vm_spec_free(spec);
		return -EEXIST;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		vm_spec_free(spec);
		return -ENOMEM;
	}
	v->daemon = d;
	v->spec = spec;
	v->pidfd = -1;
	v->name = strdup(spec->name);
	v->status = VM_SHUTOFF;
	if (!v->name || asprintf(&v->run_dir, "%s/%s", d->config->run_dir, spec->name) < 0) {
		free(v->name);
		free(v);
		vm_spec_free(spec);
		return -ENOMEM;
	}
	v->next = d->vms;
	d->vms = v;
	*ret = v;
	return 0;
}

static const char *const vm_status_names[_VM_STATUS_MAX] = {
	[VM_SHUTOFF] = "shutoff", [VM_STARTING] = "starting", [VM_INMIGRATE] = "inmigrate",
	[VM_RUNNING] = "running", [VM_PAUSED] = "paused",     [VM_SHUTDOWN] = "shutdown",
};

const char *vm_status_name(vm_status s)
{
	return (unsigned)s < _VM_STATUS_MAX ? vm_status_names[s] : "unknown";
}

void vm_set_status(vm *v, vm_status status)
{
	v->status = status;
}

vm *vm_first(host_daemon *d)
{
	return d->vms;
}

vm *vm_next(const vm *v)
{
	return v->next;
}

host_daemon *vm_get_daemon(const vm *v)
{
	return v->daemon;
}

const char *vm_get_name(const vm *v)
{
	return v->name;
}

vm_spec *vm_get_spec(const vm *v)
{
	return v->spec;
}

const char *vm_get_run_dir(const vm *v)
{
	return v->run_dir;
}

pid_t vm_get_pid(const vm *v)
{
	return v->pid;
}

vm_status vm_get_status(const vm *v)
{
	return v->status;
}

const char *vm_get_vf(const vm *v)
{
	return v->vf;
}

bool vm_is_vf_plugged(const vm *v)
{
	return v->vf_plugged;
}

bool vm_is_incoming(const vm *v)
{
	return v->incoming;
}

const cpumap *vm_get_pinned(const vm *v)
{
	return v->pinned;
}

struct migration_job *vm_get_job(const vm *v)
{
	return v->job;
}

struct dest_job *vm_get_incoming_job(const vm *v)
{
	return v->incoming_job;
}

void vm_set_vf_plugged(vm *v, bool plugged)
{
	v->vf_plugged = plugged;
}

void vm_set_incoming(vm *v, bool incoming)
{
	v->incoming = incoming;
}

void vm_set_pinned(vm *v, cpumap *pinned)
{
	free(v->pinned);
	v->pinned = pinned;
}

void vm_set_job(vm *v, struct migration_job *job)
{
	v->job = job;
}

void vm_set_incoming_job(vm *v, struct dest_job *job)
{
	v->incoming_job = job;
}

void vm_set_pid(vm *v, pid_t pid)
{
	v->pid = pid;
}

void vm_drop_vf(vm *v)
{
	free(v->vf);
	v->vf = NULL;
	v->vf_plugged = false;
}

int vm_signal_qemu(vm *v, int sig)
{
	if (v->pidfd < 0)
		return -ESRCH;
	return syscall(SYS_pidfd_send_signal, v->pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int vm_hold_vf(vm *v, const char *vf)
{
	_cleanup_free_ char *name = strdup(vf), *host = NULL;

	if (v->spec->passthrough == VM_PASSTHROUGH_VFIO)
		host = strdup(vf);
	if (!name || (v->spec->passthrough == VM_PASSTHROUGH_VFIO && !host)) {
		/* v does not know it holds vf, so vm_forget() would not give it back: do it here. */
		vf_pool_release(v->daemon->pool, vf, v->name);
		return -ENOMEM;
	}
	if (host) {
		free(v->spec->vfio_host);
		v->spec->vfio_host = TAKE_PTR(host);
	}
	free(v->vf);
	v->vf = TAKE_PTR(name);
	return 0;
}

int vm_save(vm *v)
{
	_cleanup_free_ char *path = vm_record_path(v);
	_cleanup_json_ json_object *o = NULL;
	vm_record rec = {
		.spec = v->spec,
		.run_dir = v->run_dir,
		.pid = v->pid,
		.vf = v->vf,
		.vf_plugged = v->vf_plugged,
		.incoming = v->incoming,
		.pinned = v->pinned,
	};
	int r;

	if (!path)
		return -ENOMEM;
	r = vm_record_to_json(&rec, &o);
	if (r < 0)
		return r;
	return state_file_write(path, o);
}

static void vm_close_handle_cb(uv_handle_t *h)
{
	free(h);
}

static void vm_unwatch(vm *v)
{
	if (v->pid_watch) {
		uv_close((uv_handle_t *)v->pid_watch, vm_close_handle_cb);
		v->pid_watch = NULL;
	}
	if (v->pidfd >= 0) {
		close(v->pidfd);
		v->pidfd = -1;
	}
}

static void vm_stop_finish(vm *v, int error, const char *message)
{
	vm_done_cb done = v->stop_done;

	if (v->stop_timer) {
		uv_close((uv_handle_t *)v->stop_timer, vm_close_handle_cb);
		v->stop_timer = NULL;
	}
	v->stop_done = NULL;
	if (done)
		done(v, error, message, v->stop_userdata);
}

void vm_forget(vm *v)
{
	host_daemon *d = v->daemon;
	_cleanup_free_ char *path = vm_record_path(v);

	vm_unwatch(v);
	vm_stop_finish(v, -ECANCELED, "the VM was forgotten");
#ifdef HAVE_LIBVIRT
	virt_backend_unbind(v);
#endif
	if (v->qmp)
		qmp_client_close(v->qmp);
	if (v->agent)
		agent_client_close(v->agent);
	if (v->vf) {
		vf_steering_apply_logged(v, VF_EVENT_RELEASE);
		vf_pool_release(d->pool, v->vf, v->name);
	}
	if (path)
		state_file_remove(path);
	for (vm **p = &d->vms; *p; p = &(*p)->next)
		if (*p == v) {
			*p = v->next;
			break;
		}
	vm_spec_free(v->spec);
	free(v->name);
	free(v->run_dir);
	free(v->vf);
	free(v->pinned);
	free(v);
}

static void vm_on_exit(uv_poll_t *h, int status, int events)
{
	vm *v = h->data;

	log_info("QEMU of '%s' (pid %d) exited", v->name, (int)v->pid);
	vm_unwatch(v);
	v->pid = 0;
	v->vf_plugged = false;
	vm_set_status(v, VM_SHUTOFF);
	if (v->qmp) {
		qmp_client_close(v->qmp);
		v->qmp = NULL;
	}
	vm_agent_reset(v);
	if (v->stop_done) {
		vm_stop_finish(v, 0, NULL);
		return;
	}
	if (v->job) {
		migration_job_vm_exited(v->job, "the source QEMU exited");
		return;
	}
	if (v->incoming_job) {
		migration_dest_vm_exited(v->incoming_job, "its QEMU exited");
		return;
	}
	/* Nobody asked for this: QEMU crashed or the guest powered off. */
	log_warning("VM '%s' is gone; its record and VF are released", v->name);
	vm_forget(v);
}

static int vm_watch(vm *v)
{
	int fd = (int)syscall(SYS_pidfd_open, v->pid, 0);

	if (fd < 0)
		return -errno;
	v->pid_watch = calloc(1, sizeof(*v->pid_watch));
	if (!v->pid_watch) {
		close(fd);
		return -ENOMEM;
	}
	v->pidfd = fd;
	uv_poll_init(v->daemon->loop, v->pid_watch, fd);
	v->pid_watch->data = v;
	return uv_poll_start(v->pid_watch, UV_READABLE, vm_on_exit);
}

typedef struct vm_spawn {
	vm *v;
	vm_done_cb done;
	void *userdata;
	unsigned flags;
	uv_process_t process;
	char *log_path;
} vm_spawn;

static void vm_spawn_free_cb(uv_handle_t *h)
{
	vm_spawn *s = h->data;

	free(s->log_path);
	free(s);
}

/* The last line QEMU wrote: it says why it refused to start. */
static char *vm_read_last_words(const char *log_path)
{
	char buf[4096], *last = NULL;
	FILE *f = fopen(log_path, "re");

	if (!f)
		return NULL;
	while (fgets(buf, sizeof(buf), f))
		if (buf[0] != '\n') {
			free(last);
			buf[strcspn(buf, "\n")] = '\0';
			last = strdup(buf);
		}
	fclose(f);
	return last;
}

static int vm_read_pidfile(vm *v)
{
	_cleanup_free_ char *path = NULL;
	FILE *f;
	int pid = 0;

	if (asprintf(&path, "%s/%s", v->run_dir, QEMU_RUN_PIDFILE) < 0)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%d", &pid) != 1 || pid <= 0)
		pid = -EBADMSG;
	fclose(f);
	return pid;
}

static void vm_on_spawn_exit(uv_process_t *p, int64_t status, int term_signal)
{
	vm_spawn *s = p->data;
	vm *v = s->v;
	int pid;

	uv_close((uv_handle_t *)p, vm_spawn_free_cb);
	if (status != 0 || term_signal != 0) {
		_cleanup_free_ char *why = vm_read_last_words(s->log_path);
		_cleanup_free_ char *msg = NULL;

		if (asprintf(&msg, "QEMU for '%s' did not start (exit status %lld): %s", v->name,
			     (long long)status, why ? why : "no message, see its log") < 0)
			msg = NULL;
		s->done(v, -EIO, msg, s->userdata);
		return;
	}
	/* -daemonize returns once QEMU is initialised: its sockets exist and its pidfile is written. */
	pid = vm_read_pidfile(v);
	if (pid < 0) {
		s->done(v, pid, "QEMU started but wrote no pidfile", s->userdata);
		return;
	}
	v->pid = pid;
	pid = vm_watch(v);
	if (pid < 0) {
		s->done(v, pid, "Cannot watch the QEMU process", s->userdata);
		return;
	}
	vm_set_status(v, s->flags & QEMU_ARGV_INCOMING ? VM_INMIGRATE : VM_RUNNING);
	vm_save(v);
	vm_qmp(v);
	s->done(v, 0, NULL, s->userdata);
}

int vm_start_qemu(vm *v, unsigned flags, vm_done_cb done, void *userdata)
{
	_cleanup_argv_ char **argv = NULL;
	_cleanup_close_ int log_fd = -1;
	_cleanup_free_ char *pidfile = NULL;
	uv_process_options_t o = { 0 };
	uv_stdio_container_t stdio[3];
	vm_spawn *s;
	size_t n = 0;
	char **full;
	int r;

	if (v->pid)
		return -EALREADY;
	r = state_dir_create(v->run_dir);
	if (r < 0)
		return r;
	if (qemu_accel_resolve(v->spec->accel, v->daemon->config->accel, v->daemon->kvm_works) ==
	    QEMU_ACCEL_KVM)
		flags |= QEMU_ARGV_KVM;
	r = qemu_argv_build(v->spec, v->run_dir, flags, &argv);
	if (r >= 0 && v->daemon->config->tls_dir)
		r = qemu_argv_add_tls(&argv, v->daemon->config->tls_dir, flags);
	if (r < 0)
		return r;
	while (argv[n])
		n++;
	/* Our own binary, and daemonized: the VM must outlive this daemon. */
	full = calloc(n + 2, sizeof(char *));
	if (!full || asprintf(&pidfile, "%s/%s", v->run_dir, QEMU_RUN_PIDFILE) < 0) {
		free(full);
		return -ENOMEM;
	}
	full[0] = v->daemon->config->qemu_binary;
	memcpy(full + 1, argv + 1, (n - 1) * sizeof(char *));
	full[n] = "-daemonize";

	s = calloc(1, sizeof(*s));
	if (!s || asprintf(&s->log_path, "%s/qemu.log", v->run_dir) < 0) {
		free(s);
		free(full);
		return -ENOMEM;
	}
	unlink(pidfile);
	log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		r = -errno;
		free(s->log_path);
		free(s);
		free(full);
		return r;
	}
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = log_fd;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = log_fd;
	o.file = full[0];
	o.args = full;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = vm_on_spawn_exit;
	o.flags = UV_PROCESS_DETACHED;
	s->v = v;
	s->flags = flags;
	s->done = done;
	s->userdata = userdata;
	s->process.data = s;
	vm_set_status(v, VM_STARTING);
	r = uv_spawn(v->daemon->loop, &s->process, &o);
	free(full);
	if (r < 0) {
		free(s->log_path);
		free(s);
		vm_set_status(v, VM_SHUTOFF);
		return r;
	}
	return 0;
}

static void vm_stop_timeout(uv_timer_t *t)
{
	vm *v = t->data;

	log_warning("QEMU of '%s' did not quit within %d ms: killing it", v->name,
		    VM_QUIT_TIMEOUT_MS);
	if (v->pid)
		kill(v->pid, SIGKILL);
}

static void vm_on_quit_reply(qmp_client *c, int error, json_object *ret, const char *error_class,
			     const char *error_desc, void *userdata)
{
	/* Nothing to do: the pidfd tells us when QEMU is really gone, the timer if it never goes. */
}

int vm_stop_qemu(vm *v, bool force, vm_done_cb done, void *userdata)
{
	qmp_client *q;

	if (v->stop_done)
		return -EALREADY;
	if (!v->pid) {
		done(v, 0, NULL, userdata);
		return 0;
	}
	v->stop_timer = calloc(1, sizeof(*v->stop_timer));
	if (!v->stop_timer)
		return -ENOMEM;
	v->stop_done = done;
	v->stop_userdata = userdata;
	uv_timer_init(v->daemon->loop, v->stop_timer);
	v->stop_timer->data = v;
	uv_timer_start(v->stop_timer, vm_stop_timeout, force ? 0 : VM_QUIT_TIMEOUT_MS, 0);
	q = force ? NULL : vm_qmp(v);
	if (q && qmp_client_execute(q, "quit", NULL, VM_QUIT_TIMEOUT_MS, vm_on_quit_reply, v) < 0)
		uv_timer_start(v->stop_timer, vm_stop_timeout, 0, 0);
	return 0;
}

static void vm_on_qmp_event(qmp_client *c, const char *name, json_object *data,
			    json_object *timestamp, void *userdata)
{
	vm *v = userdata;

	if (!strcmp(name, "RESUME"))
		vm_set_status(v, VM_RUNNING);
	else if (!strcmp(name, "STOP"))
		vm_set_status(v, VM_PAUSED);
	else if (!strcmp(name, "SHUTDOWN"))
		vm_set_status(v, VM_SHUTDOWN);
	if (v->job)
		migration_job_qmp_event(v->job, name, data);
	if (v->incoming_job)
		migration_dest_qmp_event(v->incoming_job, name, data);
}

static void vm_on_qmp_disconnected(qmp_client *c, int error, void *userdata)
{
	vm *v = userdata;

	log_debug_errno(error, "QMP link of '%s' closed: %m", v->name);
	qmp_client_close(c);
	v->qmp = NULL;
}

qmp_client *vm_qmp(vm *v)
{
	static const qmp_client_callbacks cbs = {
		.event = vm_on_qmp_event,
		.disconnected = vm_on_qmp_disconnected,
	};
	_cleanup_free_ char *path = NULL;
	int r;

	if (v->qmp || !v->pid)
		return v->qmp;
	if (asprintf(&path, "%s/%s", v->run_dir, QEMU_RUN_QMP_SOCKET) < 0)
		return NULL;
	r = qmp_client_connect(v->daemon->loop, path, &cbs, v, &v->qmp);
	if (r < 0) {
		log_debug_errno(r, "Failed to connect to QMP of '%s' at '%s': %m", v->name, path);
		v->qmp = NULL;
	}
	return v->qmp;
}

static void vm_on_agent_disconnected(agent_client *c, int error, void *userdata)
{
	vm *v = userdata;

	log_debug_errno(error, "Agent link of '%s' closed: %m", v->name);
	vm_agent_reset(v);
}

/* Where the VM's agent listens: a libvirt domain's channel socket (libvirt chose it: the live
 * XML says), else QEMU's in the run directory; NULL while nothing runs. */
static char *vm_agent_path(vm *v)
{
	char *path;

#ifdef HAVE_LIBVIRT
	if (virt_backend_agent_path(v))
		return strdup(virt_backend_agent_path(v));
#endif
	if (!v->pid || asprintf(&path, "%s/%s", v->run_dir, QEMU_RUN_AGENT_SOCKET) < 0)
		return NULL;
	return path;
}

static const agent_client_callbacks vm_agent_callbacks = {
	.disconnected = vm_on_agent_disconnected,
};

int vm_agent_open_fd(vm *v, int fd)
{
	vm_agent_reset(v);
	return agent_client_open_fd(v->daemon->loop, fd, &vm_agent_callbacks, v, &v->agent);
}

agent_client *vm_agent(vm *v)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (v->agent)
		return v->agent;
	path = vm_agent_path(v);
	if (!path)
		return NULL;
	r = agent_client_connect(v->daemon->loop, path, &vm_agent_callbacks, v, &v->agent);
	if (r < 0) {
		log_debug_errno(r, "Failed to connect to the agent of '%s' at '%s': %m", v->name,
				path);
		v->agent = NULL;
	}
	return v->agent;
}

void vm_agent_reset(vm *v)
{
	if (v->agent) {
		agent_client_close(v->agent);
		v->agent = NULL;
	}
}

json_object *vm_summary(vm *v)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "state", json_object_new_string(v->job || v->incoming_job ?
									   "migrating" : vm_status_name(v->status)));
	json_object_object_add(o, "run_dir", json_object_new_string(v->run_dir));
	/* libvirtd runs it: `virsh` knows it by this name. */
	if (v->spec->libvirt_domain)
		json_object_object_add(o, "libvirt_domain",
				       json_object_new_string(v->spec->libvirt_domain));
	json_object_object_add(o, "pid", json_object_new_int64(v->pid));
	json_object_object_add(o, "vf", v->vf ? json_object_new_string(v->vf) : NULL);
	json_object_object_add(o, "vf_plugged", json_object_new_boolean(v->vf_plugged));
	json_object_object_add(o, "host", json_object_new_string(v->daemon->config->name));
	if (v->pinned)
		json_object_object_add(o, "cpumap", cpumap_to_json(v->pinned));
	return o;
}

static bool vm_pid_is_qemu(pid_t pid)
{
	char path[64], exe[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		return false;
	exe[n] = '\0';
	return strstr(exe, "qemu") != NULL;
}

/* Who is at the other end of a Unix socket: SO_PEERCRED of a short-lived connection. */
static int vm_socket_peer_pid(const char *path, pid_t *ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*ret = cred.pid;
	return 0;
}

int vm_adopt_qemu(vm *v, const char *run_dir)
{
	_cleanup_free_ char *qmp = NULL;
	char *dir = strdup(run_dir);
	pid_t pid = 0;
	int r;

	if (!dir || asprintf(&qmp, "%s/%s", run_dir, QEMU_RUN_QMP_SOCKET) < 0) {
		free(dir);
		return -ENOMEM;
	}
	free(v->run_dir);
	v->run_dir = dir;
	r = vm_socket_peer_pid(qmp, &pid);
	if (r < 0)
		return r;
	if (!vm_pid_is_qemu(pid))
		return -ESRCH;
	v->pid = pid;
	r = vm_watch(v);
	if (r < 0) {
		v->pid = 0;
		return r;
	}
	vm_set_status(v, VM_RUNNING);
	vm_qmp(v);
	return vm_save(v);
}

static int vm_registry_load_one(host_daemon *d, const char *path, const char *file_name)
{
	_cleanup_json_ json_object *o = NULL;
	_cleanup_free_ char *error = NULL;
	vm_record rec;
	vm *v;
	int r;

	r = state_file_read(path, &o);
	if (r < 0)
		return log_warning_errno(r, "Ignoring VM record '%s': %m", path);
	r = vm_record_parse(o, path, &rec, &error);
	if (r < 0)
		return log_warning_errno(r, "Ignoring VM record: %s", error ? error : path);
	/* NAME.json holds VM NAME: a record must not claim another VM's name. */
	if (strncmp(file_name, rec.spec->name, strlen(file_name) - 5) ||
	    strlen(rec.spec->name) != strlen(file_name) - 5) {
		log_warning("Ignoring VM record '%s': it is the record of VM '%s'", path,
			    rec.spec->name);
		vm_record_clear(&rec);
		return -EBADMSG;
	}
	r = vm_new(d, TAKE_PTR(rec.spec), &v);
	if (r < 0) {
		vm_record_clear(&rec);
		return log_warning_errno(r, "Ignoring VM record '%s': %m", path);
	}
	free(v->run_dir);
	v->run_dir = TAKE_PTR(rec.run_dir);
	v->pid = rec.pid;
	v->vf = TAKE_PTR(rec.vf);
	v->vf_plugged = rec.vf_plugged;
	v->incoming = rec.incoming;
	v->pinned = TAKE_PTR(rec.pinned);
	if (rec.pinned_damaged)
		log_warning("VM '%s': its record's CPU map is damaged; it is not pinned", v->name);
	vm_record_clear(&rec);
	if (v->vf && vf_pool_claim(d->pool, v->vf, v->name) < 0)
		log_warning("VM '%s' held VF '%s', which is no longer free or known", v->name, v->vf);
#ifdef HAVE_LIBVIRT
	if (v->spec->libvirt_domain && v->incoming) {
		char why[512];

		/*
		 * libvirtd, not dmigrated, copies the domain here: it may be arriving, have
		 * arrived, or have run here since the switchover. The VM stays, its VF reserved,
		 * for its incoming migration's journal to decide (migration_dest.c); a domain
		 * that arrived is bound now, as its switchover would have.
		 */
		r = virt_backend_rebind_incoming(v, why, sizeof(why));
		if (r < 0)
			log_warning("VM '%s': %s", v->name, why);
		vm_set_status(v, VM_INMIGRATE);
		log_info("Found incoming VM '%s' (libvirt domain '%s' %s)", v->name,
			 v->spec->libvirt_domain, r > 0 ? "arrived" : "not arrived");
		return 0;
	}
	if (v->spec->libvirt_domain) {
		char why[512];

		/* libvirtd runs the domain whether we ran or not: take it over again. */
		if (virt_backend_adopt(v, why, sizeof(why)) == 0) {
			vm_set_status(v, VM_RUNNING);
			log_info("Found VM '%s' as libvirt domain '%s'", v->name,
				 v->spec->libvirt_domain);
			return 0;
		}
		log_warning("VM '%s': %s; forgetting it", v->name, why);
		vm_forget(v);
		return 0;
	}
#endif

	if (v->pid > 0 && vm_pid_is_qemu(v->pid) && vm_watch(v) >= 0) {
		vm_set_status(v, v->incoming ? VM_INMIGRATE : VM_RUNNING);
		vm_qmp(v);
		log_info("Found VM '%s' running as pid %d", v->name, (int)v->pid);
		return 0;
	}
	log_warning("VM '%s' is no longer running; forgetting it", v->name);
	v->pid = 0;
	vm_forget(v);
	return 0;
}

int vm_registry_load(host_daemon *d)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	DIR *dp;
	int r;

	if (asprintf(&dir, "%s/vms", d->config->state_dir) < 0)
		return -ENOMEM;
	r = state_dir_create(dir);
	if (r < 0)
		return r;
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((de = readdir(dp))) {
		_cleanup_free_ char *path = NULL;
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			break;
		vm_registry_load_one(d, path, de->d_name);
	}
	closedir(dp);
	return 0;
}
