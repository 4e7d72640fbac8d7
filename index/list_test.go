package index

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/oci/layout"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// listFixture is a store holding single-platform fixture images, and
// references to them and to the fixture layout's indexes.
type listFixture struct {
	store storage.Store
	sys   *types.SystemContext
	refs  map[string]types.ImageReference
}

// newListFixture returns references named "amd64", "arm64", "s390x"
// (single images in local storage), "stored" (an index of s390x and amd64
// in local storage) and the fixture layout's tags "3arch", "latest",
// "with-attestation" (indexes) and "amd64-single".
func newListFixture(t *testing.T) *listFixture {
	t.Helper()
	store, sys, ids := fixtureStore(t)
	f := &listFixture{store: store, sys: sys, refs: map[string]types.ImageReference{}}
	for p, id := range ids {
		ref, err := is.Transport.NewStoreReference(store, nil, id)
		if err != nil {
			t.Fatal(err)
		}
		f.refs[strings.TrimPrefix(p, "linux/")] = ref
	}
	a, err := Assemble(context.Background(), store, sys, []Instance{
		{ImageID: ids["linux/s390x"], Platform: platforms.MustParse("linux/s390x")},
		{ImageID: ids["linux/amd64"], Platform: platforms.MustParse("linux/amd64")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.refs["stored"], err = is.Transport.NewStoreReference(store, nil, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"3arch", "latest", "with-attestation", "amd64-single"} {
		ref, err := layout.NewReference(filepath.Join(os.Getenv("POLYARCH_FIXTURES"), "busybox-oci"), tag)
		if err != nil {
			t.Fatal(err)
		}
		f.refs[tag] = ref
	}
	return f
}

// sources returns the references named.
func (f *listFixture) sources(names ...string) []types.ImageReference {
	var out []types.ImageReference
	for _, n := range names {
		out = append(out, f.refs[n])
	}
	return out
}

// entryPlatformNames formats the platforms of l's entries as they are
// recorded: each its image config's, so the fixtures' arm64 is arm64/v8.
func entryPlatformNames(l *List) []string {
	var out []string
	for _, e := range l.Entries {
		out = append(out, platforms.Format(e.Platform))
	}
	return out
}

func TestCreate(t *testing.T) {
	f := newListFixture(t)
	for _, tc := range []struct {
		name string
		srcs []string
		opts CreateOptions
		want []string
		err  []string
	}{
		{name: "single images in argument order", srcs: []string{"s390x", "amd64"}, want: []string{"linux/s390x", "linux/amd64"}},
		{name: "an index contributes every platform", srcs: []string{"3arch"}, want: []string{"linux/amd64", "linux/arm64/v8", "linux/s390x"}},
		{name: "attestations are skipped", srcs: []string{"with-attestation", "arm64"}, want: []string{"linux/amd64", "linux/arm64/v8"}},
		{name: "an index in local storage", srcs: []string{"stored", "arm64"}, want: []string{"linux/s390x", "linux/amd64", "linux/arm64/v8"}},
		{name: "a single image in a layout", srcs: []string{"amd64-single", "s390x"}, want: []string{"linux/amd64", "linux/s390x"}},
		{name: "platform picks from indexes", srcs: []string{"amd64", "latest"}, opts: CreateOptions{AddOptions: AddOptions{Platforms: []specs.Platform{platforms.MustParse("linux/ppc64le"), platforms.MustParse("linux/arm/v7")}}},
			want: []string{"linux/amd64", "linux/arm/v7", "linux/ppc64le"}},
		{name: "duplicate platform", srcs: []string{"3arch", "arm64"}, err: []string{"linux/arm64 comes from both oci:", ":3arch and containers-storage:", "--replace"}},
		{name: "replace keeps the later", srcs: []string{"3arch", "arm64"}, opts: CreateOptions{AddOptions: AddOptions{Replace: true}}, want: []string{"linux/amd64", "linux/s390x", "linux/arm64/v8"}},
		{name: "platform nobody offers", srcs: []string{"3arch"}, opts: CreateOptions{AddOptions: AddOptions{Platforms: []specs.Platform{platforms.MustParse("linux/riscv64")}}},
			err: []string{"no source offers linux/riscv64", "has linux/amd64, linux/arm64, linux/s390x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "localhost/create:" + strings.ReplaceAll(tc.name, " ", "-")
			l, err := Create(context.Background(), f.store, f.sys, name, f.sources(tc.srcs...), tc.opts)
			if len(tc.err) > 0 {
				wantError(t, err, tc.err...)
				if _, err := f.store.Image(name); err == nil {
					t.Errorf("failed create left %s in storage", name)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := entryPlatformNames(l); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("entries %v, want %v", got, tc.want)
			}
			stored, err := readList(f.store, name)
			if err != nil || !reflect.DeepEqual(stored, l) {
				t.Errorf("readList = %+v, %v; want %+v", stored, err, l)
			}
		})
	}
}

// wantError fails unless err contains every part.
func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestCreateExistingAndAmend(t *testing.T) {
	f := newListFixture(t)
	ctx := context.Background()
	first, err := Create(ctx, f.store, f.sys, "app:1", f.sources("amd64"), CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Create(ctx, f.store, f.sys, "app:1", f.sources("arm64"), CreateOptions{})
	wantError(t, err, "localhost/app:1 already exists", "--amend")
	_, err = Create(ctx, f.store, f.sys, "app:1", f.sources("arm64", "amd64"), CreateOptions{Amend: true})
	wantError(t, err, "linux/amd64 comes from both index localhost/app:1")
	if l, err := readList(f.store, "app:1"); err != nil || l.ID != first.ID {
		t.Fatalf("a failed amend changed the index: %+v, %v", l, err)
	}
	l, err := Create(ctx, f.store, f.sys, "app:1", f.sources("arm64"), CreateOptions{Amend: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := entryPlatformNames(l); !reflect.DeepEqual(got, []string{"linux/amd64", "linux/arm64/v8"}) {
		t.Errorf("after --amend: %v", got)
	}
	if _, err := f.store.Image(first.ID); err == nil {
		t.Errorf("replaced index %s is still in storage", first.ID)
	}
	_, err = Add(ctx, f.store, f.sys, "app:2", f.sources("arm64"), AddOptions{})
	wantError(t, err, "no such index", "localhost/app:2", "polyarch index create")
	_, err = Add(ctx, f.store, f.sys, "localhost/fixture:amd64", f.sources("arm64"), AddOptions{})
	wantError(t, err, "is an image, not an index")
}

func TestRemove(t *testing.T) {
	f := newListFixture(t)
	ctx := context.Background()
	base, err := Create(ctx, f.store, f.sys, "app:1", f.sources("3arch"), CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	arm := base.Entries[1].Digest.String()
	if _, err := Remove(f.store, "app:1", "linux/s390x"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Image(base.ID); err == nil {
		t.Errorf("replaced index %s is still in storage", base.ID)
	}
	for _, tc := range []struct {
		name, sel string
		want      []string
		err       []string
	}{
		{name: "by platform", sel: "linux/arm64/v8", want: []string{"linux/amd64", "linux/s390x"}},
		{name: "by platform alias", sel: "aarch64", want: []string{"linux/amd64", "linux/s390x"}},
		{name: "by digest", sel: arm, want: []string{"linux/amd64", "linux/s390x"}},
		{name: "by digest prefix", sel: arm[:19], want: []string{"linux/amd64", "linux/s390x"}},
		{name: "unknown platform", sel: "linux/ppc64le", err: []string{"no entry linux/ppc64le", "it has sha256:", " linux/amd64, sha256:"}},
		{name: "ambiguous prefix", sel: "sha256:", err: []string{"matches 3 entries", "name one by digest"}},
		{name: "neither", sel: "not a/platform/at all", err: []string{"invalid entry", "use a digest"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "localhost/rm:" + strings.ReplaceAll(tc.name, " ", "-")
			if _, err := Create(ctx, f.store, f.sys, name, f.sources("3arch"), CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			l, err := Remove(f.store, name, tc.sel)
			if len(tc.err) > 0 {
				wantError(t, err, tc.err...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := entryPlatformNames(l); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("entries %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAnnotate(t *testing.T) {
	f := newListFixture(t)
	ctx := context.Background()
	if _, err := Create(ctx, f.store, f.sys, "app:1", f.sources("amd64", "arm64"), CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	l, err := Annotate(f.store, "app:1", "linux/arm64", AnnotateOptions{Variant: "v8", OSVersion: "6.1", Annotations: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	e := l.Entries[1]
	if e.Platform.Variant != "v8" || e.Platform.OSVersion != "6.1" || e.Annotations["k"] != "v" {
		t.Errorf("annotated entry = %+v", e)
	}
	if l, err = Annotate(f.store, "app:1", "", AnnotateOptions{Annotations: map[string]string{"org.opencontainers.image.source": "x"}}); err != nil {
		t.Fatal(err)
	}
	if l.Annotations["org.opencontainers.image.source"] != "x" || len(l.Entries[0].Annotations) != 0 {
		t.Errorf("index annotations = %v, entry annotations = %v", l.Annotations, l.Entries[0].Annotations)
	}
	for _, tc := range []struct {
		sel  string
		opts AnnotateOptions
		err  string
	}{
		{sel: "", opts: AnnotateOptions{OS: "linux"}, err: "apply to an entry"},
		{sel: "linux/amd64", opts: AnnotateOptions{}, err: "nothing to change"},
		{sel: "linux/s390x", opts: AnnotateOptions{OS: "linux"}, err: "no entry linux/s390x"},
	} {
		_, err := Annotate(f.store, "app:1", tc.sel, tc.opts)
		wantError(t, err, tc.err)
	}
}

// readList reads the stored index name back, as index inspect does.
func readList(store storage.Store, name string) (*List, error) {
	l, err := openList(store, name)
	if err != nil {
		return nil, err
	}
	return l.summary()
}
