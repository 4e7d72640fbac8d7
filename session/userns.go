package session

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// sysctlFiles are the kernel switches that decide whether an unprivileged
// user may create a user namespace.
var sysctlFiles = struct{ max, clone, apparmor string }{
	max:      "/proc/sys/user/max_user_namespaces",
	clone:    "/proc/sys/kernel/unprivileged_userns_clone",
	apparmor: "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
}

// checkRootlessPrerequisites reports, before polyarch tries to enter a
// user namespace as an ordinary user, what stops it and how to fix it.
func checkRootlessPrerequisites() error {
	var problems []string
	if readTrimmed(sysctlFiles.max) == "0" {
		problems = append(problems, "user namespaces are disabled (user.max_user_namespaces = 0): as root, run `sysctl -w user.max_user_namespaces=15000`")
	}
	if readTrimmed(sysctlFiles.clone) == "0" {
		problems = append(problems, "unprivileged user namespaces are disabled: as root, run `sysctl -w kernel.unprivileged_userns_clone=1`")
	}
	if readTrimmed(sysctlFiles.apparmor) == "1" {
		problems = append(problems, "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1, as on Ubuntu 24.04): as root, run `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, or give polyarch an AppArmor profile with `userns,`")
	}
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			problems = append(problems, fmt.Sprintf("%s is not installed: install the uidmap package (apt-get install uidmap)", tool))
		}
	}
	if p := runtimeDirProblem(); p != "" {
		problems = append(problems, p)
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("polyarch cannot enter a user namespace as an ordinary user:\n  " + strings.Join(problems, "\n  "))
}

// runtimeDirProblem says what is wrong with $XDG_RUNTIME_DIR, if set: it
// must be a directory this user owns and can write, as storage keeps its
// run root there.
func runtimeDirProblem() string {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return ""
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Sprintf("XDG_RUNTIME_DIR=%s is not a directory: unset it (polyarch then uses /tmp/storage-run-$UID) or log in with a session that creates it", dir)
	}
	if int(st.Uid) != os.Getuid() || unix.Access(dir, unix.W_OK) != nil {
		return fmt.Sprintf("XDG_RUNTIME_DIR=%s is not owned and writable by uid %d (a leftover from `su` or sudo?): unset it or set it to a directory of yours", dir, os.Getuid())
	}
	return ""
}

// readTrimmed returns a file's content without surrounding space, or "".
func readTrimmed(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
