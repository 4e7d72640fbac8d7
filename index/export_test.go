package index

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/oci/archive"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/reexec"
	storagetypes "go.podman.io/storage/types"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// fixtureStore returns a vfs store holding the 3-platform fixture index
// and the IDs of its amd64, arm64 and s390x images.
func fixtureStore(t *testing.T) (storage.Store, *types.SystemContext, map[string]string) {
	t.Helper()
	fixtures := os.Getenv("POLYARCH_FIXTURES")
	if fixtures == "" {
		t.Fatal("POLYARCH_FIXTURES is not set: run `make unit` (it builds the fixtures)")
	}
	dir := t.TempDir()
	store, err := storage.GetStore(storagetypes.StoreOptions{
		GraphRoot: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run"),
		GraphDriverName: "vfs", GraphDriverOptions: []string{"vfs.ignore_chown_errors=true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = store.Shutdown(true) })
	is.Transport.SetStore(store)
	policy, _ := signature.NewPolicyContext(&signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}})
	src, err := layout.NewReference(filepath.Join(fixtures, "busybox-oci"), "3arch")
	if err != nil {
		t.Fatal(err)
	}
	sys := &types.SystemContext{}
	ids := map[string]string{}
	for _, arch := range []string{"amd64", "arm64", "s390x"} {
		dst, err := is.Transport.ParseStoreReference(store, "localhost/fixture:"+arch)
		if err != nil {
			t.Fatal(err)
		}
		archSys := &types.SystemContext{ArchitectureChoice: arch}
		if _, err := cp.Image(context.Background(), policy, dst, src, &cp.Options{SourceCtx: archSys, DestinationCtx: sys}); err != nil {
			t.Fatalf("copying %s fixture into storage: %v", arch, err)
		}
		img, err := store.Image("localhost/fixture:" + arch)
		if err != nil {
			t.Fatal(err)
		}
		ids["linux/"+arch] = img.ID
	}
	return store, sys, ids
}

func TestAssembleAndExportKeepOrder(t *testing.T) {
	store, sys, ids := fixtureStore(t)
	order := []string{"linux/s390x", "linux/amd64", "linux/arm64"}
	var insts []Instance
	for _, p := range order {
		insts = append(insts, Instance{ImageID: ids[p], Platform: platforms.MustParse(p)})
	}
	ctx := context.Background()
	a, err := Assemble(ctx, store, sys, insts)
	if err != nil {
		t.Fatal(err)
	}
	for _, asArchive := range []bool{false, true} {
		dest := filepath.Join(t.TempDir(), "out")
		if err := export(ctx, store, sys, a.ID, ExportOptions{Dest: dest, RefName: "v1", Archive: asArchive}); err != nil {
			t.Fatal(err)
		}
		var ref types.ImageReference
		if asArchive {
			ref, err = archive.NewReference(dest, "v1")
		} else {
			ref, err = layout.NewReference(dest, "v1")
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := Platforms(ctx, sys, ref)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range got {
			names = append(names, platforms.Format(p))
		}
		if !reflect.DeepEqual(names, order) {
			t.Errorf("archive=%v: exported platforms %v, want %v", asArchive, names, order)
		}
	}
}

func TestExportFailureLeavesDestination(t *testing.T) {
	store, sys, _ := fixtureStore(t)
	dest := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dest, "keep")
	if err := os.WriteFile(marker, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := export(context.Background(), store, sys, "0000000000000000000000000000000000000000000000000000000000000000", ExportOptions{Dest: dest})
	if err == nil {
		t.Fatal("export of a missing index succeeded")
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "old" {
		t.Errorf("destination changed after a failed export: %q, %v", b, err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".out.polyarch-*")); len(m) != 0 {
		t.Errorf("temporary directories left: %v", m)
	}
}

// TestExportAddsTagToExistingLayout exports into one layout under two
// tags, then the first again: both tags stay, the repeated one moves.
func TestExportAddsTagToExistingLayout(t *testing.T) {
	store, sys, ids := fixtureStore(t)
	ctx := context.Background()
	a, err := Assemble(ctx, store, sys, []Instance{{ImageID: ids["linux/amd64"], Platform: platforms.MustParse("linux/amd64")}})
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "out")
	for _, tag := range []string{"a", "b", "a"} {
		if err := export(ctx, store, sys, a.ID, ExportOptions{Dest: dest, RefName: tag}); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := readIndexFile(filepath.Join(dest, "index.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, m := range idx.Manifests {
		tags = append(tags, m.Annotations["org.opencontainers.image.ref.name"])
	}
	if strings.Join(tags, ",") != "b,a" {
		t.Errorf("index.json tags %v, want [b a]: every tag kept, the re-exported one moved last", tags)
	}
}

func TestCheckExportDest(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, files ...string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(p, f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	file := filepath.Join(dir, "file.tar")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		dest    string
		archive bool
		err     string
	}{
		{"new layout", filepath.Join(dir, "new"), false, ""},
		{"empty dir", mk("empty"), false, ""},
		{"existing layout", mk("layout", "oci-layout", "index.json"), false, ""},
		{"project dir", mk("project", "main.go"), false, "not an OCI layout"},
		{"layout another writer is creating", mk("creating", LayoutLockName), false, ""},
		{"file as layout", file, false, "refusing to replace file"},
		{"new archive", filepath.Join(dir, "new.tar"), true, ""},
		{"existing archive", file, true, ""},
		{"dir as archive", mk("somedir", "precious.txt"), true, "refusing to replace directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckExportDest(tc.dest, tc.archive)
			if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("CheckExportDest(%s, archive=%v) = %v, want error containing %q", tc.dest, tc.archive, err, tc.err)
			}
		})
	}
}

// export writes the stored index (or image) id to o.Dest as a build does:
// staged once, exported from the staging copy, moved into place.
func export(ctx context.Context, store storage.Store, sys *types.SystemContext, id string, o ExportOptions) error {
	p, err := Stage(ctx, store, sys, id, StageOptions{})
	if err != nil {
		return err
	}
	defer p.Close()
	st, err := p.Export(ctx, o)
	if err != nil {
		return err
	}
	defer st.Discard()
	return st.Commit(ctx)
}
