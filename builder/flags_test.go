package builder

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParseAnnotation(t *testing.T) {
	for _, tc := range []struct {
		in                string
		manifest, index   bool
		kv, wantErrSubstr string
	}{
		{in: "k=v", manifest: true, kv: "k=v"},
		{in: "org.example.url=https://x:1/y", manifest: true, kv: "org.example.url=https://x:1/y"},
		{in: "manifest:k=v", manifest: true, kv: "k=v"},
		{in: "index:k=a:b", index: true, kv: "k=a:b"},
		{in: "index,manifest:k=", manifest: true, index: true, kv: "k="},
		{in: "manifest-descriptor:k=v", wantErrSubstr: `unsupported type "manifest-descriptor"`},
		{in: "k", wantErrSubstr: "use KEY=VALUE"},
		{in: "index:=v", wantErrSubstr: "use KEY=VALUE"},
	} {
		m, i, kv, err := ParseAnnotation(tc.in)
		if tc.wantErrSubstr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErrSubstr) {
				t.Errorf("ParseAnnotation(%q) error = %v, want %q", tc.in, err, tc.wantErrSubstr)
			}
			continue
		}
		if err != nil || m != tc.manifest || i != tc.index || kv != tc.kv {
			t.Errorf("ParseAnnotation(%q) = %v %v %q %v, want %v %v %q", tc.in, m, i, kv, err, tc.manifest, tc.index, tc.kv)
		}
	}
}

func TestMergeUlimits(t *testing.T) {
	defaults := []string{"nofile=1024:4096", "nproc=100:200"}
	for _, tc := range []struct {
		user, want []string
	}{
		{nil, defaults},
		{[]string{"nofile=512:512"}, []string{"nofile=512:512", "nproc=100:200"}},
		{[]string{"core=0", "nproc=5"}, []string{"core=0", "nproc=5", "nofile=1024:4096"}},
	} {
		if got := mergeUlimits(tc.user, defaults); !slices.Equal(got, tc.want) {
			t.Errorf("mergeUlimits(%v) = %v, want %v", tc.user, got, tc.want)
		}
	}
}

func TestParseBuildContexts(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		in, wantImage, wantErr string
		wantDir                bool
	}{
		{in: "src=" + dir, wantDir: true},
		{in: "img=docker-image://reg/a:1", wantImage: "reg/a:1"},
		{in: "lay=oci-layout://" + dir + ":v1", wantImage: "oci-layout://" + dir + ":v1"},
		{in: "lay=oci-layout://" + dir + "@sha256:abc", wantErr: "digests are not supported"},
		{in: "gone=" + filepath.Join(dir, "nope"), wantErr: "is not a directory"},
		{in: "noname", wantErr: "use NAME=DIR"},
		{in: "=x", wantErr: "use NAME=DIR"},
		{in: "img=docker-image://", wantErr: "invalid --build-context"},
	} {
		got, err := parseBuildContexts([]string{tc.in})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseBuildContexts(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		name, _, _ := strings.Cut(tc.in, "=")
		c, ok := got[name]
		if err != nil || !ok || c.image() != tc.wantImage || (tc.wantDir && c.Context.Value != dir) {
			t.Errorf("parseBuildContexts(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

// TestNeedsWithContexts checks that preflight resolves the image of a
// named image context instead of the name, and nothing for a directory.
func TestNeedsWithContexts(t *testing.T) {
	dir := t.TempDir()
	path := writeContainerfile(t, "FROM base\nCOPY --from=src /x /x\nCOPY --from=tools /y /y\nCOPY --from=reg/other:2 /z /z\n")
	arm := specs.Platform{OS: "linux", Architecture: "arm64"}
	o := Options{ContextDir: filepath.Dir(path), Platforms: []specs.Platform{arm}, Inputs: InputOptions{
		BuildContexts: []string{"base=docker-image://reg/base:1", "src=" + dir, "tools=oci-layout://" + dir},
	}}
	p, err := NewPlan(&o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range p.needs {
		got = append(got, n.Image)
	}
	want := []string{"reg/base:1", "oci-layout://" + dir, "reg/other:2"}
	if !slices.Equal(got, want) {
		t.Errorf("needs = %v, want %v", got, want)
	}
}

// TestFromDirectoryContext checks that FROM naming a directory context is
// a Containerfile error, found when planning.
func TestFromDirectoryContext(t *testing.T) {
	path := writeContainerfile(t, "FROM src\n")
	o := Options{ContextDir: filepath.Dir(path), Inputs: InputOptions{BuildContexts: []string{"src=" + t.TempDir()}}}
	_, err := NewPlan(&o)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 || !strings.Contains(err.Error(), "COPY --from=src") {
		t.Errorf("NewPlan error = %v, want a ParseError for line 1 suggesting COPY --from=src", err)
	}
}

func TestBaseNameAnnotation(t *testing.T) {
	arm := specs.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct {
		name, content, target, want string
		contexts                    []string
	}{
		{name: "qualified", content: "FROM quay.io/a/b:1\n", want: "org.opencontainers.image.base.name=quay.io/a/b:1"},
		{name: "via ARG", content: "ARG B=quay.io/a/b:2\nFROM $B\n", want: "org.opencontainers.image.base.name=quay.io/a/b:2"},
		{name: "short name", content: "FROM busybox\n"},
		{name: "stage", content: "FROM quay.io/a/b:1 AS s\nFROM s\n"},
		{name: "target", content: "FROM quay.io/a/b:1 AS s\nFROM scratch\n", target: "s", want: "org.opencontainers.image.base.name=quay.io/a/b:1"},
		{name: "layout", content: "FROM oci:dir:1\n"},
		{name: "context", content: "FROM quay.io/a/b:1\n", contexts: []string{"quay.io/a/b:1=docker-image://quay.io/c/d:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeContainerfile(t, tc.content)
			o := Options{ContextDir: filepath.Dir(path), Platforms: []specs.Platform{arm}, Target: tc.target, Inputs: InputOptions{BuildContexts: tc.contexts}}
			cf, err := parseContainerfile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := (&Plan{file: cf}).baseNameAnnotation(&o, arm); got != tc.want {
				t.Errorf("baseNameAnnotation = %q, want %q", got, tc.want)
			}
		})
	}
}
