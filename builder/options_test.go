package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.podman.io/buildah/pkg/util"
)

func TestParseOutput(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Output
		err  string
	}{
		{in: "type=oci,dest=./out", want: Output{Type: OutputOCI, Dest: "./out"}},
		{in: "dest=a.tar,type=oci-archive", want: Output{Type: OutputOCIArchive, Dest: "a.tar"}},
		{in: "type=oci", err: "missing dest"},
		{in: "dest=x", err: "missing type"},
		{in: "type=docker,dest=x", err: "unsupported type"},
		{in: "oci", err: "expected type=oci"},
		{in: "type=oci,dest=x,compression=zstd", err: "unknown key"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseOutput(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseOutput(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseOutput(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParsePullPolicy(t *testing.T) {
	for in, want := range map[string]PullPolicy{"": PullMissing, "missing": PullMissing, "always": PullAlways, "never": PullNever, "false": PullNever, "true": PullMissing} {
		if got, err := ParsePullPolicy(in); err != nil || got != want {
			t.Errorf("ParsePullPolicy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParsePullPolicy("sometimes"); err == nil || !strings.Contains(err.Error(), "always, missing or never") {
		t.Errorf("ParsePullPolicy(sometimes) error %v lacks the valid values", err)
	}
}

func TestResolveContainerfile(t *testing.T) {
	dir := t.TempDir()
	o := Options{ContextDir: dir}
	if err := o.resolveContainerfile(); err == nil || !strings.Contains(err.Error(), "pass one with -f") {
		t.Fatalf("empty context: %v", err)
	}
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := o.resolveContainerfile(); err != nil || o.Containerfile != df {
		t.Fatalf("Dockerfile fallback: %q, %v", o.Containerfile, err)
	}
	cf := filepath.Join(dir, "Containerfile")
	if err := os.WriteFile(cf, []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.Containerfile = ""
	if err := o.resolveContainerfile(); err != nil || o.Containerfile != cf {
		t.Fatalf("Containerfile first: %q, %v", o.Containerfile, err)
	}
}

func TestRlimitValue(t *testing.T) {
	for v, want := range map[uint64]string{0: "0", 1024: "1024", 1<<63 - 1: "9223372036854775807", ^uint64(0): "-1"} {
		if got := rlimitValue(v); got != want {
			t.Errorf("rlimitValue(%d) = %q, want %q", v, got, want)
		}
	}
	for _, u := range append(currentUlimits(), "nproc=-1:-1", "nofile="+rlimitValue(^uint64(0))+":"+rlimitValue(^uint64(0))) {
		if _, err := util.ParseUlimit(u); err != nil {
			t.Errorf("buildah rejects %q: %v", u, err)
		}
	}
}
