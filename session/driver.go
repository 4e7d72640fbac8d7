package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DriverReason says why a store's driver was chosen; `polyarch info`
// shows it.
type DriverReason string

// Why a driver was chosen, from the strongest reason to the weakest.
const (
	DriverFlag    DriverReason = "configured (--storage-driver)"
	DriverEnv     DriverReason = "configured (STORAGE_DRIVER)"
	DriverConf    DriverReason = "configured (storage.conf)"
	DriverFound   DriverReason = "found in store"
	DriverDefault DriverReason = "default"
)

// knownDrivers are the graph drivers whose state storage keeps in
// GRAPHROOT/DRIVER-images and GRAPHROOT/DRIVER-layers.
var knownDrivers = []string{"overlay", "vfs", "btrfs", "zfs", "aufs", "devicemapper"}

// chooseDriver returns the driver to open the store at root with: the
// configured one (reason says by what), else the one the store already
// holds, else "" for storage's default. It never lets a second driver
// be created in an existing store, and refuses a store holding two.
// storage's own guess cannot be used: it ignores an existing vfs store
// and creates overlay beside it.
func chooseDriver(root, configured string, reason DriverReason) (string, DriverReason, error) {
	found, err := driversIn(root)
	if err != nil {
		return "", "", err
	}
	_, present := found[configured]
	switch {
	case configured != "" && (present || len(found) == 0):
		return configured, reason, nil
	case len(found) > 1:
		return "", "", severalDrivers(root, found)
	case configured != "":
		return "", "", otherDriver(root, found, configured, reason)
	}
	for name := range found {
		return name, DriverFound, nil
	}
	return "", DriverDefault, nil
}

// otherDriver explains why a configured driver is refused for a store
// made with another one.
func otherDriver(root string, found map[string]int, configured string, reason DriverReason) error {
	for name, images := range found {
		return fmt.Errorf("the store at %s was made with the %s driver (%s) but %s is %s: polyarch will not create a second driver in it; "+
			"pass --storage-driver %s (or set driver = %q in storage.conf), or use another --root",
			root, name, imageCount(images), configured, reason, name, name)
	}
	return nil
}

// driversIn returns the drivers with state in the graph root, each with
// the number of images it holds; none for a root that does not exist.
func driversIn(root string) (map[string]int, error) {
	found := map[string]int{}
	for _, name := range knownDrivers {
		present := false
		for _, dir := range []string{name + "-images", name + "-layers"} {
			st, err := os.Stat(filepath.Join(root, dir))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("looking for %s state in the store at %s: %w", name, root, err)
			}
			present = present || (err == nil && st.IsDir())
		}
		if present {
			found[name] = countImages(filepath.Join(root, name+"-images", "images.json"))
		}
	}
	return found, nil
}

// countImages returns how many images an images.json lists; 0 when it
// cannot be read.
func countImages(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var images []json.RawMessage
	if json.Unmarshal(b, &images) != nil {
		return 0
	}
	return len(images)
}

// severalDrivers explains a store holding state of several drivers:
// which holds images, and how to choose.
func severalDrivers(root string, found map[string]int) error {
	names := make([]string, 0, len(found))
	for name := range found {
		names = append(names, name)
	}
	// Most images first, then by name: the first is the likely choice.
	sort.Slice(names, func(i, j int) bool {
		if found[names[i]] != found[names[j]] {
			return found[names[i]] > found[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + " (" + imageCount(found[name]) + ")"
	}
	return fmt.Errorf("the store at %s holds several storage drivers: %s; choose the one to use with --storage-driver %s "+
		"(or driver = %q in storage.conf), and remove the other's %s-images and %s-layers directories once you no longer need them",
		root, strings.Join(parts, ", "), names[0], names[0], names[1], names[1])
}

// imageCount says "1 image" or "N images".
func imageCount(n int) string {
	if n == 1 {
		return "1 image"
	}
	return fmt.Sprintf("%d images", n)
}
