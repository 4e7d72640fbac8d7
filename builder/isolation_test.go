package builder

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/buildah/define"
)

func TestParseIsolation(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "", want: IsolationChroot},
		{in: "chroot", want: IsolationChroot},
		{in: "oci", want: IsolationOCI},
		{in: "rootless", err: `invalid --isolation "rootless": use chroot`},
		{in: "OCI", err: "or oci (an OCI runtime, crun or runc"},
	} {
		got, err := ParseIsolation(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseIsolation(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseIsolation(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestRuntimeArgs(t *testing.T) {
	for _, tc := range []struct {
		path, userns string
		want         []string
	}{
		{"/usr/sbin/runc", "root", []string{"--root", "/s", "--rootless", "true"}},
		{"/usr/sbin/runc", "rootless", []string{"--root", "/s", "--rootless", "true"}},
		{"/usr/sbin/runc", "", []string{"--root", "/s"}},
		{"/usr/bin/crun", "root", []string{"--root", "/s"}},
	} {
		t.Setenv("_POLYARCH_USERNS", tc.userns)
		if got := runtimeArgs(tc.path, "/s"); !slices.Equal(got, tc.want) {
			t.Errorf("runtimeArgs(%s) in namespace %q = %q, want %q", tc.path, tc.userns, got, tc.want)
		}
	}
}

func TestApplyIsolation(t *testing.T) {
	var chroot define.BuildOptions
	applyIsolation(&chroot, IsolationChroot, "", "")
	if chroot.Isolation != define.IsolationChroot || chroot.Runtime != "" || len(chroot.NamespaceOptions) != 0 {
		t.Errorf("chroot: isolation %v, runtime %q, namespaces %v", chroot.Isolation, chroot.Runtime, chroot.NamespaceOptions)
	}
	var oci define.BuildOptions
	applyIsolation(&oci, IsolationOCI, "/usr/bin/crun", "/w/oci-state")
	if oci.Isolation != define.IsolationOCI || oci.Runtime != "/usr/bin/crun" || !slices.Equal(oci.RuntimeArgs, []string{"--root", "/w/oci-state"}) {
		t.Errorf("oci: isolation %v, runtime %q, args %q; want crun with its state in /w/oci-state", oci.Isolation, oci.Runtime, oci.RuntimeArgs)
	}
}

func TestFindOCIRuntimeNoneInPath(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	path, tried := findOCIRuntime(context.Background())
	if path != "" || !slices.Equal(tried, []string{"crun: not found in PATH", "runc: not found in PATH"}) {
		t.Errorf("findOCIRuntime = %q, %q", path, tried)
	}
	_, err := ociRuntimeFor(context.Background())
	if err == nil || !strings.Contains(err.Error(), "install crun or runc, or use --isolation chroot") {
		t.Errorf("ociRuntimeFor: %v, want the fallback named", err)
	}
}

func TestFindOCIRuntimeBroken(t *testing.T) {
	dir := t.TempDir()
	broken := "#!/bin/sh\necho 'cgroups in hybrid mode not supported' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "runc"), []byte(broken), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	path, tried := findOCIRuntime(context.Background())
	want := filepath.Join(dir, "runc") + ": a probe container failed: exit status 1: cgroups in hybrid mode not supported"
	if path != "" || len(tried) != 2 || tried[1] != want {
		t.Errorf("findOCIRuntime = %q, %q; want none, and %q", path, tried, want)
	}
}

func TestProbeBundle(t *testing.T) {
	bundle := t.TempDir()
	spec, err := probeBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var ns []rspec.LinuxNamespaceType
	for _, n := range spec.Linux.Namespaces {
		ns = append(ns, n.Type)
	}
	if !slices.Equal(ns, []rspec.LinuxNamespaceType{rspec.PIDNamespace, rspec.IPCNamespace, rspec.UTSNamespace, rspec.MountNamespace}) {
		t.Errorf("probe namespaces %v", ns)
	}
	if spec.Root.Path != filepath.Join(bundle, "rootfs") || spec.Process.Args[0] != "/bin/sh" || spec.Version != rspec.Version {
		t.Errorf("probe root %q, args %q, version %q", spec.Root.Path, spec.Process.Args, spec.Version)
	}
	// Each of the host's /bin and /usr is bound (a directory) or linked.
	for _, dir := range []string{"/bin", "/usr"} {
		fi, err := os.Lstat(dir)
		if err != nil {
			continue
		}
		bound := slices.ContainsFunc(spec.Mounts, func(m rspec.Mount) bool { return m.Destination == dir && m.Source == dir })
		_, linkErr := os.Readlink(filepath.Join(bundle, "rootfs", dir))
		if fi.IsDir() != bound || (fi.Mode()&os.ModeSymlink != 0) != (linkErr == nil) {
			t.Errorf("%s (mode %v): bound %v, linked %v", dir, fi.Mode(), bound, linkErr == nil)
		}
	}
}
