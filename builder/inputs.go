package builder

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	units "github.com/docker/go-units"
	"go.podman.io/buildah/define"
	"go.podman.io/buildah/pkg/parse"
	"go.podman.io/common/pkg/capabilities"
)

// validate checks every input before any work, as buildah would check it
// midway: secrets and SSH sources exist, volumes, hosts, limits and
// capabilities are well formed, and the network is one polyarch offers.
func (in InputOptions) validate() error {
	if _, err := parse.Secrets(in.Secrets); err != nil {
		return fmt.Errorf("invalid --secret %s: %w (use id=ID,src=FILE or id=ID,env=VAR)", strings.Join(in.Secrets, " "), err)
	}
	if _, err := parse.SSH(in.SSH); err != nil {
		return fmt.Errorf("invalid --ssh %s: %w (use default, with SSH_AUTH_SOCK set, or ID=SOCKET|KEYFILE)", strings.Join(in.SSH, " "), err)
	}
	if _, err := parseBuildContexts(in.BuildContexts); err != nil {
		return err
	}
	if in.IgnoreFile != "" {
		if _, err := os.Stat(in.IgnoreFile); err != nil {
			return fmt.Errorf("invalid --ignorefile: %w", err)
		}
	}
	if _, err := ParseIsolation(in.Isolation); err != nil {
		return err
	}
	for _, check := range []func() error{in.validateNetwork, in.validateHosts, in.validateVolumes, in.validateUlimits, in.validateCaps} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateHosts checks HOST:IP entries as buildah does (IP may be
// host-gateway).
func (in InputOptions) validateHosts() error {
	for _, h := range in.AddHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok || name == "" || (ip != "host-gateway" && net.ParseIP(ip) == nil) {
			return fmt.Errorf("invalid --add-host %q: use HOST:IP, e.g. --add-host db:10.0.0.5 (IP may be host-gateway)", h)
		}
	}
	return nil
}

// validateVolumes checks SRC:DEST[:OPTIONS] with buildah's parser.
func (in InputOptions) validateVolumes() error {
	for _, v := range in.Volumes {
		if _, err := parse.Volume(v); err != nil {
			return fmt.Errorf("invalid --volume %q: %w (use HOST-DIR:CONTAINER-DIR[:ro|rw|z|Z|O|U...])", v, err)
		}
	}
	return nil
}

// validateUlimits checks TYPE=SOFT[:HARD] values.
func (in InputOptions) validateUlimits() error {
	for _, u := range in.Ulimits {
		if _, err := units.ParseUlimit(u); err != nil {
			return fmt.Errorf("invalid --ulimit %q: %w (use TYPE=SOFT[:HARD], e.g. nofile=1024:2048; -1 is unlimited)", u, err)
		}
	}
	return nil
}

// validateCaps checks capability names (CAP_ may be left out; ALL counts).
func (in InputOptions) validateCaps() error {
	for flag, caps := range map[string][]string{"--cap-add": in.CapAdd, "--cap-drop": in.CapDrop} {
		if _, err := capabilities.NormalizeCapabilities(caps); err != nil {
			return fmt.Errorf("invalid %s: %w (use names such as NET_ADMIN or CAP_NET_ADMIN, or ALL)", flag, err)
		}
	}
	return nil
}

// apply sets the input fields of buildah's options for one platform.
func (in InputOptions) apply(opts *define.BuildOptions) {
	c := opts.CommonBuildOpts
	c.Secrets, c.SSHSources = in.Secrets, in.SSH
	c.HTTPProxy = !in.NoHTTPProxy
	c.AddHost = in.AddHosts
	c.Volumes, opts.TransientMounts = in.Volumes, in.Volumes
	c.Ulimit = mergeUlimits(in.Ulimits, c.Ulimit)
	opts.AddCapabilities, opts.DropCapabilities = in.CapAdd, in.CapDrop
	applyIsolation(opts, in.Isolation, in.ociRuntime, in.ociState)
	applyNetwork(opts, in.Network)
	if in.IgnoreFile != "" {
		opts.IgnoreFile, _ = filepath.Abs(in.IgnoreFile)
	}
}

// mergeUlimits returns the user's limits plus each default whose type the
// user did not set.
func mergeUlimits(user, defaults []string) []string {
	out := append([]string{}, user...)
	set := map[string]bool{}
	for _, u := range user {
		typ, _, _ := strings.Cut(u, "=")
		set[typ] = true
	}
	for _, d := range defaults {
		if typ, _, _ := strings.Cut(d, "="); !set[typ] {
			out = append(out, d)
		}
	}
	return out
}
