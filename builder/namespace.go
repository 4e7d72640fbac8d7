package builder

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage/pkg/unshare"
)

// inNamespaceEnv marks a polyarch process already running in its own user
// and mount namespace.
const inNamespaceEnv = index.UserNamespaceEnv

// InOwnNamespace reports whether this process runs in the user namespace
// that polyarch created for the build.
func InOwnNamespace() bool {
	return os.Getenv(inNamespaceEnv) != ""
}

// EnterNamespace re-executes the running command inside a new user and
// mount namespace when the build needs one: always when not root (through
// newuidmap and /etc/subuid, as podman does), and as root when emulation
// uses private binfmt_misc handlers. When it re-executes, the parent exits
// with the child's status and EnterNamespace does not return. It returns
// nil when the current process should build itself.
func EnterNamespace(o Options) error {
	if InOwnNamespace() {
		return nil
	}
	mode, err := emulation.ParseMode(o.Emulation.Mode)
	if err != nil {
		return err
	}
	private := false
	if mode != emulation.ModeHost {
		ok, why := emulation.PrivateSupported()
		if !ok && mode == emulation.ModePrivate {
			return fmt.Errorf("--emulation=private is not available: %s; use --emulation=host (as root, or after `sudo polyarch emulation install`)", why)
		}
		private = ok
	}
	if os.Geteuid() != 0 {
		return EnterStorageNamespace()
	}
	if !private || !needsEmulation(o) {
		return nil
	}
	return reexecAsRootInNamespace(o)
}

// needsEmulation reports whether a foreign platform has RUN steps to
// execute, from the build's plan (o.Plan, else made here); root needs its
// own namespace only then. When the answer is unknown (the plan cannot be
// made yet), it says yes: Build reports the real problem.
func needsEmulation(o Options) bool {
	p, err := planOf(&o)
	return err != nil || p.NeedsEmulation()
}

// EnterStorageNamespace re-executes the running command, for an ordinary
// user, inside a user namespace built from /etc/subuid and /etc/subgid, as
// podman does, so local storage can be used; for root it does nothing.
// Commands that only touch local storage (index, copy) call it; build
// calls EnterNamespace. The child's command line is never logged: it may
// hold credentials.
func EnterStorageNamespace() error {
	if InOwnNamespace() || os.Geteuid() == 0 {
		return nil
	}
	if err := checkRootlessPrerequisites(); err != nil {
		return err
	}
	if err := os.Setenv(inNamespaceEnv, "rootless"); err != nil {
		return err
	}
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		// storage logs the child's argv at debug level; --creds may be there.
		logrus.SetLevel(logrus.InfoLevel)
	}
	unshare.MaybeReexecUsingUserNamespace(false)
	return nil
}

// reexecAsRootInNamespace runs this command again as root in a user
// namespace mapping every ID to itself, so it may mount its own
// binfmt_misc while reading and writing root's store unchanged.
func reexecAsRootInNamespace(o Options) error {
	opts, err := ResolveStoreOptions(o.Store)
	if err != nil {
		return err
	}
	encoded, err := encodeStoreEnv(opts)
	if err != nil {
		return err
	}
	full := []rspec.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
	cmd := unshare.Command(append([]string{os.Args[0] + "-in-a-user-namespace"}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), inNamespaceEnv+"=root", storeEnv+"="+encoded, unshare.UsernsEnvName+"=done")
	cmd.UnshareFlags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
	cmd.UidMappings, cmd.GidMappings = full, full
	cmd.GidMappingsEnableSetgroups = true
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	forward := make(chan os.Signal, 4)
	signal.Notify(forward, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	cmd.Hook = func(int) error {
		go func() {
			for s := range forward {
				_ = cmd.Cmd.Process.Signal(s)
			}
		}()
		return nil
	}
	unshare.ExecRunnable(cmd, nil)
	return nil
}
