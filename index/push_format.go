package index

import (
	"context"
	"fmt"
	"path/filepath"

	"go.podman.io/common/libimage/manifests"
	"go.podman.io/image/v5/directory"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// listFormat returns the format an index in local storage keeps when no
// --format is given: FormatV2S2 when every image it lists is a Docker
// schema 2 manifest (built with --format docker, whose configs may hold
// HEALTHCHECK, SHELL and ONBUILD, which OCI has no field for), else
// FormatOCI.
func listFormat(list manifests.List) string {
	instances := list.Instances()
	if len(instances) == 0 {
		return FormatOCI
	}
	for _, d := range instances {
		if mt, err := list.MediaType(d); err != nil || mt != manifest.DockerV2Schema2MediaType {
			return FormatOCI
		}
	}
	return FormatV2S2
}

// storedListFormat is listFormat for the index id in store.
func storedListFormat(store storage.Store, id string) (string, error) {
	_, list, err := manifests.LoadFromImage(store, id)
	if err != nil {
		return "", fmt.Errorf("loading index %s: %w", id, err)
	}
	return listFormat(list), nil
}

// stageStoredAs writes the index id in store into dir in its own format
// (see listFormat): an OCI layout tagged "copy" for OCI, a dir: for a
// Docker manifest list (OCI layouts hold only OCI manifests), and
// returns a reference to it.
func stageStoredAs(ctx context.Context, store storage.Store, sys *types.SystemContext, id, dir string) (types.ImageReference, error) {
	format, err := storedListFormat(store, id)
	if err != nil {
		return nil, err
	}
	var staged types.ImageReference
	if format == FormatV2S2 {
		staged, err = directory.NewReference(filepath.Join(dir, "dir"))
	} else {
		staged, err = layout.NewReference(filepath.Join(dir, "layout"), "copy")
	}
	if err != nil {
		return nil, err
	}
	return staged, copyFromStorageAs(ctx, store, sys, id, staged, nil, format)
}
