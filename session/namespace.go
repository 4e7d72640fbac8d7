package session

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/storage/pkg/unshare"
)

// namespaceEnv is set in every polyarch process running in the user
// namespace polyarch created: "rootless" for an ordinary user (uid 0
// there is the user), "root" for root.
const namespaceEnv = "_POLYARCH_USERNS"

// InNamespace reports whether this process runs in a user namespace that
// polyarch created (StorageNamespace or RootNamespace).
func InNamespace() bool {
	return os.Getenv(namespaceEnv) != ""
}

// rootlessNamespace reports whether this process runs in the user
// namespace polyarch created for an ordinary user.
func rootlessNamespace() bool {
	return os.Getenv(namespaceEnv) == "rootless"
}

// Rootless reports whether polyarch runs for an ordinary user, in its
// namespace or before entering it.
func Rootless() bool {
	return rootlessNamespace() || os.Geteuid() != 0
}

// StorageNamespace returns, for an ordinary user not yet in polyarch's
// namespace, the re-execution of this command in a user and mount
// namespace built from /etc/subuid and /etc/subgid through newuidmap, as
// podman does, so local storage can be used. It returns nil for root and
// inside the namespace, and an error naming what to fix when the host
// does not allow it.
func StorageNamespace() (*Reexec, error) {
	if InNamespace() || os.Geteuid() == 0 {
		return nil, nil
	}
	if err := checkRootlessPrerequisites(); err != nil {
		return nil, err
	}
	uids, gids, err := subIDMappings()
	if err != nil {
		return nil, err
	}
	cmd := newReexecCommand()
	cmd.Env = append(os.Environ(), namespaceEnv+"=rootless", unshare.UsernsEnvName+"=1")
	if _, ok := os.LookupEnv("BUILDAH_ISOLATION"); !ok {
		cmd.Env = append(cmd.Env, "BUILDAH_ISOLATION=rootless")
	}
	cmd.UseNewuidmap, cmd.UseNewgidmap = true, true
	cmd.UidMappings, cmd.GidMappings = uids, gids
	return &Reexec{cmd: cmd}, nil
}

// RootNamespace returns, for root, the re-execution of this command in a
// user and mount namespace mapping every ID to itself, so it may mount
// its own binfmt_misc while reading and writing root's store c unchanged.
// It returns nil inside polyarch's namespace.
func RootNamespace(c StoreConfig) (*Reexec, error) {
	if InNamespace() {
		return nil, nil
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("entering a namespace as root: running as uid %d: use StorageNamespace", os.Geteuid())
	}
	encoded, err := c.encode()
	if err != nil {
		return nil, err
	}
	full := []rspec.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 4294967295}}
	cmd := newReexecCommand()
	// UsernsEnvName=done: storage must not take the fully mapped
	// namespace for real root (its overlay self-test would fail).
	cmd.Env = append(os.Environ(), namespaceEnv+"=root", storeEnv+"="+encoded, unshare.UsernsEnvName+"=done")
	cmd.UidMappings, cmd.GidMappings = full, full
	return &Reexec{cmd: cmd}, nil
}

// subIDMappings returns the mappings of the re-executed process: the
// user's own IDs as 0, then their /etc/subuid and /etc/subgid ranges,
// consecutively. Without ranges, the user alone is mapped (SingleMapping
// then warns when the store is opened).
func subIDMappings() (uids, gids []rspec.LinuxIDMapping, err error) {
	me, err := user.Current()
	if err != nil {
		return nil, nil, fmt.Errorf("looking up the current user for its /etc/subuid ranges: %w", err)
	}
	uid, uerr := strconv.ParseUint(me.Uid, 10, 32)
	gid, gerr := strconv.ParseUint(me.Gid, 10, 32)
	if uerr != nil || gerr != nil {
		return nil, nil, fmt.Errorf("parsing uid %q and gid %q of user %s", me.Uid, me.Gid, me.Username)
	}
	subUIDs, subGIDs, err := unshare.GetSubIDMappings(me.Username, me.Username)
	if err != nil {
		subUIDs, subGIDs = nil, nil // no ranges: a single mapping
	}
	return consecutive(uint32(uid), subUIDs), consecutive(uint32(gid), subGIDs), nil
}

// consecutive maps own to 0 and the ranges after it, one after another.
func consecutive(own uint32, ranges []rspec.LinuxIDMapping) []rspec.LinuxIDMapping {
	out := append([]rspec.LinuxIDMapping{{HostID: own, Size: 1}}, ranges...)
	var next uint32
	for i := range out {
		out[i].ContainerID = next
		next += out[i].Size
	}
	return out
}

// newReexecCommand returns this command again, under a name no reexec
// handler claims so main runs as usual, in a new user and mount
// namespace, with the parent's standard streams.
func newReexecCommand() *unshare.Cmd {
	cmd := unshare.Command(append([]string{os.Args[0] + "-in-a-user-namespace"}, os.Args[1:]...)...)
	cmd.UnshareFlags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
	cmd.GidMappingsEnableSetgroups = true
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The child dies with its parent, whatever kills the parent. It runs
	// in a process group of its own, so a signal sent to the terminal's
	// foreground group (Ctrl-C) or to polyarch's group reaches it once,
	// forwarded by the parent, and never counts as a second signal.
	cmd.Cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	return cmd
}
