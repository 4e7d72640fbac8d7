package emulation

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// RequireHostAdmin returns nil if this process may change the host's
// binfmt_misc: it runs as root in the initial user namespace. Otherwise
// the error says that an administrator should run command (e.g.
// "polyarch emulation install linux/arm64") with sudo, and that builds
// need no such step on Linux >= 6.7.
func RequireHostAdmin(command string) error {
	initial, err := InitialUserNamespace()
	if err != nil {
		return err
	}
	switch {
	case os.Geteuid() != 0:
		return fmt.Errorf("changing the host's binfmt_misc needs root: ask an administrator to run `sudo %s`; "+
			"builds do not need it on Linux >= 6.7, where polyarch registers handlers in its own user namespace", command)
	case !initial:
		return fmt.Errorf("changing the host's binfmt_misc: this process is root in a user namespace, not on the host "+
			"(a container or `unshare`), where the change would not reach the host: run `sudo %s` on the host", command)
	}
	return nil
}

// MountHost mounts binfmt_misc at mnt (normally DefaultMountPoint) unless
// one is mounted there, as systemd's proc-sys-fs-binfmt_misc.mount does
// (nosuid, nodev, noexec). It reports whether it mounted it. In the
// initial user namespace this is the host's instance.
func MountHost(mnt string) (bool, error) {
	ok, err := Mounted(mnt)
	if errors.Is(err, syscall.ENOENT) {
		return false, fmt.Errorf("mounting binfmt_misc at %s: %w: the kernel has no binfmt_misc support loaded: "+
			"load it (sudo modprobe binfmt_misc)", mnt, err)
	}
	if err != nil || ok {
		return false, err
	}
	err = unix.Mount("binfmt_misc", mnt, "binfmt_misc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	if err != nil {
		return false, fmt.Errorf("mounting binfmt_misc at %s: %w", mnt, mountHint(err))
	}
	return true, nil
}
