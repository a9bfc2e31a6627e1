/* SPDX-License-Identifier: Apache-2.0 */
/* Is a host port free? Reads the socket tables of the calling thread's network namespace
 * (/proc/thread-self/net/{tcp,tcp6,udp,udp6,sctp/eps}) and names the process holding a port. */
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/inet.h"
#include "common/util.h"
#include "nft/nft.h"

static bool addr_any(const struct ipaddr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->b, zero, sizeof(zero)) == 0;
}

/* The socket's address overlaps the requested one (family 0 = any address of `family`). */
static bool overlaps(const struct socktab_ent *s, int family, const struct ipaddr *ip)
{
	if (s->addr.family != family)   /* a [::] socket also takes IPv4 (v4-mapped) */
		return s->addr.family == AF_INET6 && addr_any(&s->addr);
	if (!ip || !ip->family || addr_any(&s->addr))
		return true;
	return memcmp(s->addr.b, ip->b, sizeof(ip->b)) == 0;
}

/* tcp/udp tables: "sl local rem st ... uid timeout inode". */
static int table_scan(const char *file, int family, bool listen_only, int want_family,
		      const struct ipaddr *ip, uint16_t port, unsigned long *ret_inode)
{
	_cleanup_free_ char *path = xasprintf("/proc/thread-self/net/%s", file);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	struct socktab_ent s;
	char line[512];

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (socktab_line_parse(line, family, &s) < 0 || s.port != port)
			continue;
		if (s.state != (listen_only ? SOCKTAB_TCP_LISTEN : SOCKTAB_UDP_BOUND))
			continue;
		if (overlaps(&s, want_family, ip)) {
			*ret_inode = s.inode;
			return 1;
		}
	}
	return 0;
}

/* SCTP endpoints: "ENDPT SOCK STY SST HBKT LPORT UID INODE LADDRS". Any address. */
static int sctp_scan(uint16_t port, unsigned long *ret_inode)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/thread-self/net/sctp/eps", "re");
	char line[512];
	unsigned lport;
	unsigned long inode;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*s %*s %*s %*s %*s %u %*s %lu", &lport, &inode) == 2 &&
		    lport == port) {
			*ret_inode = inode;
			return 1;
		}
	return 0;
}

static bool pid_has_socket(const char *pid, const char *want)
{
	_cleanup_free_ char *dir = xasprintf("/proc/%s/fd", pid);
	DIR *d = opendir(dir);
	struct dirent *de;
	char link[64], path[300];
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

static void holder_describe(unsigned long inode, char *ret, size_t size)
{
	char want[64], comm[64] = "?";
	DIR *d = opendir("/proc");
	struct dirent *de;

	snprintf(ret, size, "a socket (inode %lu)", inode);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (d && inode && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || !pid_has_socket(de->d_name, want))
			continue;
		_cleanup_free_ char *p = xasprintf("/proc/%s/comm", de->d_name);
		_cleanup_fclose_ FILE *f = fopen(p, "re");

		if (f && fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		snprintf(ret, size, "process %s (pid %s)", comm, de->d_name);
		break;
	}
	if (d)
		closedir(d);
}

/* Fast path: try to bind the port ourselves (microseconds, whatever the size of the socket
 * tables). 0 = free, 1 = taken, -errno = cannot tell (e.g. the address is not local). */
static int bind_probe(int family, const struct ipaddr *ip, uint8_t proto, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	_cleanup_close_ int fd = -1;
	socklen_t len;
	int one = 1;

	fd = socket(family, (proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (proto == IPPROTO_TCP)   /* TIME_WAIT leftovers do not hold a port */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (ip && ip->family == AF_INET)
			memcpy(&sin->sin_addr, ip->b, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (ip && ip->family == AF_INET6)
			memcpy(&sin6->sin6_addr, ip->b, 16);
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == 0)
		return 0;
	return errno == EADDRINUSE ? 1 : -errno;
}

int nft_hostport_holder(int family, const struct ipaddr *ip, uint8_t proto, uint16_t port,
			char *ret_desc, size_t size)
{
	bool tcp = proto == IPPROTO_TCP;
	unsigned long inode = 0;
	int r = 0;

	int probe = proto == IPPROTO_SCTP ? -1 : bind_probe(family, ip, proto, port);

	if (probe == 0)
		return 0;
	if (proto == IPPROTO_SCTP)
		r = sctp_scan(port, &inode);
	if (proto != IPPROTO_SCTP && r == 0)
		r = table_scan(tcp ? "tcp" : "udp", AF_INET, tcp, family, ip, port, &inode);
	if (proto != IPPROTO_SCTP && r == 0)
		r = table_scan(tcp ? "tcp6" : "udp6", AF_INET6, tcp, family, ip, port, &inode);
	if (r > 0)
		holder_describe(inode, ret_desc, size);
	if (r == 0 && probe == 1) {   /* bound but in no table we read (e.g. not listening) */
		snprintf(ret_desc, size, "another socket on the host");
		r = 1;
	}
	return r;
}
