package builder

import (
	"os"
	"slices"
	"strings"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/buildah/define"
	"golang.org/x/sys/unix"
)

func TestValidateNetwork(t *testing.T) {
	for _, tc := range []struct{ network, wantErr string }{
		{"", ""},
		{"host", ""},
		{"none", ""},
		{"private", "--network private is not available"},
		{"podman", `invalid --network "podman": use host`},
	} {
		err := InputOptions{Network: tc.network}.validateNetwork()
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("validateNetwork(%q) = %v, want %q", tc.network, err, tc.wantErr)
		}
	}
}

func TestApplyNetwork(t *testing.T) {
	for _, tc := range []struct {
		network string
		host    bool
		policy  define.NetworkConfigurationPolicy
	}{
		{"", true, define.NetworkDefault},
		{"host", true, define.NetworkDefault},
		{"none", false, define.NetworkDisabled},
	} {
		var opts define.BuildOptions
		applyNetwork(&opts, tc.network)
		want := define.NamespaceOption{Name: string(rspec.NetworkNamespace), Host: tc.host}
		if !slices.Equal(opts.NamespaceOptions, []define.NamespaceOption{want}) || opts.ConfigureNetwork != tc.policy {
			t.Errorf("applyNetwork(%q): namespaces %v, policy %v; want %v, %v", tc.network, opts.NamespaceOptions, opts.ConfigureNetwork, want, tc.policy)
		}
	}
}

func TestWantsNewNetwork(t *testing.T) {
	ns := func(n ...rspec.LinuxNamespace) *rspec.Spec { return &rspec.Spec{Linux: &rspec.Linux{Namespaces: n}} }
	for _, tc := range []struct {
		name string
		spec *rspec.Spec
		want bool
	}{
		{"no spec", nil, false},
		{"no linux", &rspec.Spec{}, false},
		{"host network", ns(rspec.LinuxNamespace{Type: rspec.PIDNamespace}), false},
		{"new network", ns(rspec.LinuxNamespace{Type: rspec.NetworkNamespace}), true},
		{"join a network", ns(rspec.LinuxNamespace{Type: rspec.NetworkNamespace, Path: "/run/netns/x"}), false},
	} {
		if got := wantsNewNetwork(tc.spec); got != tc.want {
			t.Errorf("%s: wantsNewNetwork = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRuntimeConfigRelay(t *testing.T) {
	in := `{"Spec":{"ociVersion":"1.0.0","linux":{"namespaces":[{"type":"network"}]}},"BundlePath":"/b","NoPivot":true}`
	c, err := readRuntimeConfig(strings.NewReader(in))
	if err != nil || !wantsNewNetwork(c.Spec) {
		t.Fatalf("readRuntimeConfig = %+v, %v", c, err)
	}
	r, err := c.pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	again, err := readRuntimeConfig(r)
	if err != nil || string(again.raw) != in {
		t.Errorf("the relayed configuration reads %q, %v; want it unchanged", again.raw, err)
	}
	if _, err := readRuntimeConfig(strings.NewReader(`{}`)); err == nil {
		t.Error("a configuration without a spec was accepted")
	}
}

func TestCloseOnExecFrom(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := unix.FcntlInt(r.Fd(), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	if err := closeOnExecFrom(3); err != nil {
		t.Fatal(err)
	}
	flags, err := unix.FcntlInt(r.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd %d: flags %#x, %v; want close-on-exec", r.Fd(), flags, err)
	}
	if flags, _ := unix.FcntlInt(1, unix.F_GETFD, 0); flags&unix.FD_CLOEXEC != 0 {
		t.Error("stdout was marked close-on-exec")
	}
}
