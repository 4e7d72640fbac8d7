package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.podman.io/storage"
	storagetypes "go.podman.io/storage/types"
)

// TestResolveStoreDriver prepares real stores in a temporary root (each
// driver given with its number of images), resolves and opens them as
// polyarch does, and checks the driver, its reason, and that no second
// driver appears in the store.
func TestResolveStoreDriver(t *testing.T) {
	if os.Getenv("STORAGE_DRIVER") != "" {
		t.Fatal("unset STORAGE_DRIVER: these cases choose the driver themselves")
	}
	for _, tc := range []struct {
		name     string
		existing map[string]int // driver -> images made before polyarch runs
		flag     string         // --storage-driver
		driver   string         // want: the driver opened
		reason   DriverReason
		err      []string // want: an error holding each
	}{
		{name: "empty root takes the default", reason: DriverDefault},
		{name: "podman's vfs store", existing: map[string]int{"vfs": 1}, driver: "vfs", reason: DriverFound},
		{name: "overlay store", existing: map[string]int{"overlay": 2}, driver: "overlay", reason: DriverFound},
		{name: "empty vfs store", existing: map[string]int{"vfs": 0}, driver: "vfs", reason: DriverFound},
		{name: "flag on empty root", flag: "vfs", driver: "vfs", reason: DriverFlag},
		{name: "flag matching the store", existing: map[string]int{"vfs": 1}, flag: "vfs", driver: "vfs", reason: DriverFlag},
		{name: "flag against the store", existing: map[string]int{"vfs": 1}, flag: "overlay",
			err: []string{"made with the vfs driver (1 image)", "overlay is configured (--storage-driver)", "--storage-driver vfs"}},
		{name: "two drivers", existing: map[string]int{"vfs": 1, "overlay": 0},
			err: []string{"several storage drivers: vfs (1 image), overlay (0 images)", "--storage-driver vfs"}},
		{name: "two drivers with images in overlay", existing: map[string]int{"vfs": 0, "overlay": 3},
			err: []string{"overlay (3 images), vfs (0 images)", "--storage-driver overlay"}},
		{name: "two drivers and one chosen", existing: map[string]int{"vfs": 1, "overlay": 0}, flag: "vfs", driver: "vfs", reason: DriverFlag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir() // no comma in the name: overlay's mount options would break
			root := filepath.Join(dir, "root")
			for driver, images := range tc.existing {
				makeStore(t, root, filepath.Join(dir, "setup-"+driver), driver, images)
			}
			c, err := ResolveStore(StoreOptions{Root: root, RunRoot: filepath.Join(dir, "run"), Driver: tc.flag})
			if len(tc.err) > 0 {
				for _, want := range tc.err {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("ResolveStore error = %v, want one holding %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.DriverReason != tc.reason || c.Options.GraphDriverName != tc.driver {
				t.Errorf("resolved driver %q (%s), want %q (%s)", c.Options.GraphDriverName, c.DriverReason, tc.driver, tc.reason)
			}
			checkOpened(t, c, root, tc.driver, tc.existing)
		})
	}
}

// makeStore creates a store of driver at root holding images empty
// images, with its own run root, and closes it.
func makeStore(t *testing.T, root, runRoot, driver string, images int) {
	t.Helper()
	s, err := storage.GetStore(storagetypes.StoreOptions{GraphRoot: root, RunRoot: runRoot, GraphDriverName: driver})
	if err != nil {
		t.Fatalf("making a %s store: %v", driver, err)
	}
	defer func() { _, _ = s.Shutdown(true) }()
	for i := 0; i < images; i++ {
		if _, err := s.CreateImage("", []string{"localhost/made-by-" + driver + ":" + string(rune('a'+i))}, "", "", nil); err != nil {
			t.Fatalf("making an image in the %s store: %v", driver, err)
		}
	}
}

// checkOpened opens c and checks that it uses driver ("" for any) with
// the images made before, and that no driver was added to a store that
// had one.
func checkOpened(t *testing.T, c StoreConfig, root, driver string, existing map[string]int) {
	t.Helper()
	s, err := OpenStore(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = s.Shutdown(true) }()
	if driver != "" && s.GraphDriverName() != driver {
		t.Errorf("store opened with %s, want %s", s.GraphDriverName(), driver)
	}
	imgs, err := s.Images()
	if err != nil || len(imgs) != existing[driver] {
		t.Errorf("store lists %d images (%v), want %d", len(imgs), err, existing[driver])
	}
	found, err := driversIn(root)
	if err != nil {
		t.Fatal(err)
	}
	want := len(existing)
	if want == 0 {
		want = 1 // the store was made now, with one driver
	}
	if _, ok := found[s.GraphDriverName()]; !ok || len(found) != want {
		t.Errorf("after opening with %s, the store holds drivers %v; before: %v", s.GraphDriverName(), found, existing)
	}
}
