/* SPDX-License-Identifier: Apache-2.0 */
/* Terminals: a pty made from the /dev/ptmx of the root the caller is in (a container's own
 * devpts instance), its slave opened through the master (TIOCGPTPEER: never by a path), made the
 * controlling terminal of a new session. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/internal.h"

int rt_pty_open(int rows, int cols, bool ctty, int *ret_master, struct berr *err)
{
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	int unlock = 0, slave;

	if (master < 0)
		return berr_errno(err, -errno, "opening /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return berr_errno(err, -errno, "unlocking the terminal");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return berr_errno(err, -errno, "opening the terminal");
	if (rows > 0 && cols > 0)
		ioctl(slave, TIOCSWINSZ, &ws);
	if (ctty && (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)) {
		int r = berr_errno(err, -errno, "making the terminal the controlling one");

		close(slave);
		return r;
	}
	*ret_master = steal_fd(master);
	return slave;
}
