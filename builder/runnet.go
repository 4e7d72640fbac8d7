package builder

import (
	"fmt"
	"os"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/buildah/define"
	"golang.org/x/sys/unix"
)

// The network of RUN steps (--network).
//
// buildah's chroot runtime ignores the network namespace of its runtime
// spec ("unable to create network namespace, sorry about that"), so
// --network none (and RUN --network=none) left a chroot RUN step on the
// host's network. polyarch's wrapper of that runtime (ServeRunNamespace)
// reads the spec and, when it asks for a new network namespace, creates
// one along with the PID, IPC and mount namespaces, with loopback up, as
// podman's --network none gives. binfmt_misc and qemu need no network.

// Networks of RUN steps.
const (
	// NetworkHost shares the host's network (the default).
	NetworkHost = "host"
	// NetworkNone gives each RUN step a new network namespace holding
	// only a loopback interface, up.
	NetworkNone = "none"
	// NetworkPrivate is podman's network of its own with connectivity,
	// which polyarch refuses: it needs a network stack.
	NetworkPrivate = "private"
)

// newNetEnv tells nsHelper that it runs in a new network namespace whose
// loopback it brings up.
const newNetEnv = "_POLYARCH_RUN_NEWNET"

// wantsNewNetwork reports whether spec asks for a new network namespace
// (one without a path to join).
func wantsNewNetwork(spec *rspec.Spec) bool {
	if spec == nil || spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == rspec.NetworkNamespace && ns.Path == "" {
			return true
		}
	}
	return false
}

// setUpNewNetwork brings up the loopback interface when nsHelper was
// started in a new network namespace.
func setUpNewNetwork() error {
	if os.Getenv(newNetEnv) == "" {
		return nil
	}
	os.Unsetenv(newNetEnv)
	return loopbackUp()
}

// loopbackUp brings up lo in this network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening a socket to bring up the loopback interface: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("reading the flags of the loopback interface: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing up the loopback interface: %w", err)
	}
	return nil
}

// validateNetwork accepts the networks polyarch gives RUN steps, with
// either isolation.
func (in InputOptions) validateNetwork() error {
	switch in.Network {
	case "", NetworkHost, NetworkNone:
		return nil
	case NetworkPrivate:
		return fmt.Errorf("--network private is not available: a network of its own that reaches anything needs a network stack (netavark or CNI, slirp4netns or pasta), which polyarch does not set up, with chroot or oci isolation; use --network none (a network namespace of its own with only loopback) or --network host (the default)")
	}
	return fmt.Errorf("invalid --network %q: use host (the default: the host's network) or none (a network namespace of its own with only loopback); private is not available", in.Network)
}

// applyNetwork sets the network of RUN steps: the host's, or for none a
// new network namespace that buildah asks its runtime for and nothing
// configures. A step's RUN --network=host|none overrides it.
func applyNetwork(opts *define.BuildOptions, network string) {
	host := network != NetworkNone
	opts.NamespaceOptions = append(opts.NamespaceOptions, define.NamespaceOption{Name: string(rspec.NetworkNamespace), Host: host})
	if !host {
		opts.ConfigureNetwork = define.NetworkDisabled
	}
}
