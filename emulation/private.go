package emulation

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// initUserNSInode is the fixed inode number of the initial user namespace
// (PROC_USER_INIT_INO in include/linux/proc_ns.h since Linux 3.8,
// USER_NS_INIT_INO in the uapi linux/nsfs.h since 6.18).
const initUserNSInode = 0xEFFFFFFD

// InitialUserNamespace reports whether this process runs in the initial
// (host) user namespace, where mounting binfmt_misc changes the host's
// handlers. It compares the inode of /proc/self/ns/user with the kernel's
// fixed inode for the initial namespace; if that link cannot be read it
// falls back to /proc/self/uid_map being the identity map
// "0 0 4294967295".
func InitialUserNamespace() (bool, error) {
	var st unix.Stat_t
	err := unix.Stat("/proc/self/ns/user", &st)
	if err == nil {
		return st.Ino == initUserNSInode, nil
	}
	b, rerr := os.ReadFile("/proc/self/uid_map")
	if rerr != nil {
		return false, fmt.Errorf("checking the user namespace: %w; %w: is /proc mounted?", err, rerr)
	}
	f := strings.Fields(string(b))
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295", nil
}

// MountPrivate is MountPrivateReport returning only the handlers it
// re-registered: the ones now present at mnt that were visible before.
func MountPrivate(mnt string) ([]Handler, error) {
	m, err := MountPrivateReport(mnt)
	return m.Reregistered, err
}

// MountPrivateReport mounts a fresh binfmt_misc at mnt (normally
// DefaultMountPoint) for the calling user namespace and registers there
// every enabled handler that was visible at mnt before, because the new
// instance would otherwise hide working host handlers (buildah issue
// #6611). It leaves out, and lists in Skipped, the table's handlers (by
// name or magic) that builds cannot use: lacking flag P or F, or with
// their interpreter gone. Ensure then registers fit ones in their place
// instead of failing with ErrUnfit. Calling it again in the same
// namespace keeps the mount and its handlers.
//
// It refuses to run in the initial user namespace, where it would change
// the host. Call it in polyarch's own user and mount namespace on Linux >=
// 6.7 (see PrivateSupported). If some handlers could not be registered
// again the error is a *ReregisterError and the mount stays.
func MountPrivateReport(mnt string) (PrivateMount, error) {
	initial, err := InitialUserNamespace()
	if err != nil {
		return PrivateMount{}, fmt.Errorf("mounting a private binfmt_misc at %s: %w", mnt, err)
	}
	if initial {
		return PrivateMount{}, fmt.Errorf("mounting a private binfmt_misc at %s: refusing in the initial user namespace, "+
			"where it would replace the host's handlers: call it inside polyarch's own user and mount namespace, "+
			"or use host mode", mnt)
	}
	prev, err := ReadHandlers(mnt)
	if err != nil && !errors.Is(err, ErrNotMounted) {
		return PrivateMount{}, fmt.Errorf("mounting a private binfmt_misc at %s: %w", mnt, err)
	}
	// EBUSY: this namespace's instance is already the top mount at mnt
	// (the kernel refuses to stack a superblock on itself); keep it, and
	// everything in it: nothing was hidden, so nothing is left out.
	err = unix.Mount("binfmt_misc", mnt, "binfmt_misc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	if err != nil && !errors.Is(err, syscall.EBUSY) {
		return PrivateMount{}, fmt.Errorf("mounting a private binfmt_misc at %s: %w", mnt, mountHint(err))
	}
	return reregister(mnt, prev, err == nil)
}

func mountHint(err error) error {
	switch {
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%w: mounting binfmt_misc is not permitted in this namespace: it needs root on the host, "+
			"or, in a user namespace, Linux >= 6.7 and a mount namespace that user namespace owns (unshare --user --mount)", err)
	case errors.Is(err, syscall.ENODEV):
		return fmt.Errorf("%w: the kernel has no binfmt_misc: load it (modprobe binfmt_misc, as root)", err)
	}
	return err
}

// PrivateSupported reports whether private mode can work here: Linux >=
// 6.7 (binfmt_misc per user namespace) and user namespaces allowed. When
// it cannot, the string says why and what to do. It does not try to create
// a namespace, so seccomp filters that block unshare(2) go unnoticed.
func PrivateSupported() (bool, string) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false, fmt.Sprintf("reading the kernel version: %v", err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	if !kernelAtLeast(release, 6, 7) {
		return false, fmt.Sprintf("kernel %s is older than 6.7, the first to give each user namespace "+
			"its own binfmt_misc: use host mode (polyarch emulation install, as root)", release)
	}
	return userNamespacesAllowed()
}

func userNamespacesAllowed() (bool, string) {
	if v, ok := readSysctl("/proc/sys/user/max_user_namespaces"); ok && v == 0 {
		return false, "user namespaces are disabled (user.max_user_namespaces = 0): " +
			"raise it (sysctl -w user.max_user_namespaces=15000) or use host mode"
	}
	if os.Geteuid() == 0 {
		return true, ""
	}
	if v, ok := readSysctl("/proc/sys/kernel/unprivileged_userns_clone"); ok && v == 0 {
		return false, "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0): " +
			"enable them (sysctl -w kernel.unprivileged_userns_clone=1), run as root, or use host mode"
	}
	if v, ok := readSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"); ok && v != 0 {
		return false, "AppArmor restricts unprivileged user namespaces " +
			"(kernel.apparmor_restrict_unprivileged_userns = 1): add an AppArmor profile allowing userns " +
			"for polyarch, run as root, or use host mode"
	}
	return true, ""
}

// readSysctl reads an integer sysctl file; ok is false if it is absent or
// unreadable.
func readSysctl(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return v, err == nil
}

// kernelAtLeast reports whether a release string such as
// "6.18.44-fc-v657" is at least major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, ok1 := leadingInt(parts[0])
	mnr, ok2 := leadingInt(parts[1])
	if !ok1 || !ok2 {
		return false
	}
	return maj > major || (maj == major && mnr >= minor)
}

// leadingInt parses the decimal digits at the start of s ("7rc1" is 7).
func leadingInt(s string) (int, bool) {
	end := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(s)
	}
	v, err := strconv.Atoi(s[:end])
	return v, err == nil
}
