package session

import (
	"encoding/json"
	"os"
	"path/filepath"

	"go.podman.io/storage"
)

// BuildKeysDir is where builds record their whole-build cache keys, under
// the store's graph root: one file per key naming the image it gave (see
// builder's wholecache.go).
const BuildKeysDir = "polyarch/build-keys"

// BuildKeyEntry is what a build key's file holds.
type BuildKeyEntry struct {
	// Image is the ID of the platform's image.
	Image string `json:"image"`
	// Steps is how many steps after FROM the build had, for the summary.
	Steps int `json:"steps"`
}

// ReadBuildKey reads the key file at path.
func ReadBuildKey(path string) (BuildKeyEntry, error) {
	var e BuildKeyEntry
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &e)
	}
	return e, err
}

// RemoveStaleBuildKeys removes the recorded build keys whose image is no
// longer in store (removed by rmi or prune, or never written whole) and
// returns how many it removed. A key file that cannot be read is stale.
func RemoveStaleBuildKeys(store storage.Store) (int, error) {
	dir := filepath.Join(store.GraphRoot(), BuildKeysDir)
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if keyImageExists(store, path) {
			continue
		}
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// keyImageExists reports whether the key file at path names an image
// that store holds.
func keyImageExists(store storage.Store, path string) bool {
	e, err := ReadBuildKey(path)
	if err != nil || e.Image == "" {
		return false
	}
	_, err = store.Image(e.Image)
	return err == nil
}
