package builder

import (
	"errors"

	nettypes "go.podman.io/common/libnetwork/types"
)

// errNoNetworks is returned by hostNetwork for operations that need a
// network backend, which chroot builds never use.
var errNoNetworks = errors.New("polyarch builds use the host network; network backends are not supported")

// hostNetwork is a network backend for chroot builds, whose RUN steps share
// the host's network: it lets buildah start without netavark or CNI.
type hostNetwork struct{}

var _ nettypes.ContainerNetwork = hostNetwork{}

// The methods below implement nettypes.ContainerNetwork with nothing to
// set up: chroot RUN steps share the host's network.

func (hostNetwork) NetworkCreate(nettypes.Network, *nettypes.NetworkCreateOptions) (nettypes.Network, error) {
	return nettypes.Network{}, errNoNetworks
}
func (hostNetwork) NetworkUpdate(string, nettypes.NetworkUpdateOptions) error { return errNoNetworks }
func (hostNetwork) NetworkRemove(string) error                                { return errNoNetworks }
func (hostNetwork) NetworkList(...nettypes.FilterFunc) ([]nettypes.Network, error) {
	return nil, nil
}
func (hostNetwork) NetworkInspect(string) (nettypes.Network, error) {
	return nettypes.Network{}, errNoNetworks
}
func (hostNetwork) Setup(string, nettypes.SetupOptions) (map[string]nettypes.StatusBlock, error) {
	return map[string]nettypes.StatusBlock{}, nil
}
func (hostNetwork) Teardown(string, nettypes.TeardownOptions) error { return nil }
func (hostNetwork) RunInRootlessNetns(f func() error) error         { return f() }
func (hostNetwork) RootlessNetnsInfo() (*nettypes.RootlessNetnsInfo, error) {
	return nil, errNoNetworks
}
func (hostNetwork) PestoSocketPath() string           { return "" }
func (hostNetwork) Drivers() []string                 { return nil }
func (hostNetwork) DefaultNetworkName() string        { return "host" }
func (hostNetwork) NetworkInfo() nettypes.NetworkInfo { return nettypes.NetworkInfo{Backend: "host"} }
