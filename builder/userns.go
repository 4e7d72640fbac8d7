package builder

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
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
	if len(problems) == 0 {
		return nil
	}
	return errors.New("polyarch cannot enter a user namespace as an ordinary user:\n  " + strings.Join(problems, "\n  "))
}
