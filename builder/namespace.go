package builder

import (
	"fmt"
	"os"

	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/session"
)

// EnterNamespace returns the re-execution of the running command inside
// a new user and mount namespace when the build needs one: always when
// not root (through newuidmap and /etc/subuid, as podman does), and as
// root when emulation uses private binfmt_misc handlers. Otherwise root
// builds in a mount namespace of its own (session.MountNamespace), so
// nothing it mounts outlives it in the host's namespace. The caller
// (main) runs it and exits with its status. It returns nil, nil when the
// current process should build itself.
func EnterNamespace(o Options) (*session.Reexec, error) {
	if session.InNamespace() {
		return nil, nil
	}
	mode, err := emulation.ParseMode(o.Emulation.Mode)
	if err != nil {
		return nil, err
	}
	private := false
	if mode != emulation.ModeHost {
		ok, why := emulation.PrivateSupported()
		if !ok && mode == emulation.ModePrivate {
			return nil, fmt.Errorf("--emulation=private is not available: %s; use --emulation=host (as root, or after `sudo polyarch emulation install`)", why)
		}
		private = ok
	}
	if os.Geteuid() != 0 {
		return session.StorageNamespace()
	}
	c, err := session.ResolveStore(o.Store)
	if err != nil {
		return nil, err
	}
	if !private || !needsEmulation(o) {
		if err := mountHostBinfmtFirst(mode, o); err != nil {
			return nil, err
		}
		return session.MountNamespace(c)
	}
	return session.RootNamespace(c)
}

// mountHostBinfmtFirst mounts the host's binfmt_misc, in the host's
// mount namespace, before a host-mode build that will register handlers
// moves into a mount namespace of its own: the build's namespace inherits
// the mount, so the handlers it registers are the host's and the host
// sees them where it looks, as `polyarch emulation install` leaves them.
// Builds in any other mode change nothing on the host.
func mountHostBinfmtFirst(mode emulation.Mode, o Options) error {
	if mode != emulation.ModeHost || !needsEmulation(o) {
		return nil
	}
	return ensureHostBinfmt()
}

// needsEmulation reports whether a foreign platform has RUN steps to
// execute, from the build's plan (o.Plan, else made here); root needs its
// own namespace only then. When the answer is unknown (the plan cannot be
// made yet), it says yes: Build reports the real problem.
func needsEmulation(o Options) bool {
	p, err := planOf(&o)
	return err != nil || p.NeedsEmulation()
}
