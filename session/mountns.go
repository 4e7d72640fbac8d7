package session

import (
	"fmt"
	"os"
	"syscall"
)

// mountNamespaceValue is namespaceEnv in a root polyarch re-executed in
// a mount namespace of its own, without a user namespace.
const mountNamespaceValue = "root-mount"

// InUserNamespace reports whether this process runs in a user namespace
// that polyarch created (StorageNamespace or RootNamespace); false in
// the host's and in MountNamespace's, where root keeps its full powers.
func InUserNamespace() bool {
	v := os.Getenv(namespaceEnv)
	return v != "" && v != mountNamespaceValue
}

// MountNamespace returns, for root, the re-execution of this command in a
// mount namespace of its own whose mounts are all private: what the build
// mounts (buildah's overlay over the build context, storage's layers)
// never reaches the host's namespace and vanishes with the build,
// whatever kills it. IDs and capabilities stay the host's, and root's
// store c is read and written unchanged. It returns nil inside
// polyarch's namespaces.
func MountNamespace(c StoreConfig) (*Reexec, error) {
	if InNamespace() {
		return nil, nil
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("entering a mount namespace: running as uid %d: use StorageNamespace", os.Geteuid())
	}
	encoded, err := c.encode()
	if err != nil {
		return nil, err
	}
	cmd := newReexecCommand()
	cmd.Env = append(os.Environ(), namespaceEnv+"="+mountNamespaceValue, storeEnv+"="+encoded)
	// Go's fork makes every mount of the new namespace private (MS_REC|
	// MS_PRIVATE on /) before the child runs, so nothing propagates back
	// to the host; unshare's own CLONE_NEWNS then nests one more private
	// namespace, in which its re-exec bind mount stays.
	cmd.UnshareFlags = syscall.CLONE_NEWNS
	cmd.Cmd.SysProcAttr.Unshareflags = syscall.CLONE_NEWNS
	return &Reexec{cmd: cmd}, nil
}
