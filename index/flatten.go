package index

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/pkg/blobinfocache"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/types"
)

// Whiteout names in layer tars, per the OCI image spec.
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// flattenImage writes to file the root filesystem of the image sys
// chooses out of src: the layers applied bottom to top, a whiteout
// deleting what lower layers had at its path, an opaque directory what
// they had below it. It reads the layers twice, streaming: once to learn
// which layer has the last word on each path, once to copy those entries.
func flattenImage(ctx context.Context, src types.ImageReference, sys *types.SystemContext, file string) error {
	source, err := src.NewImageSource(ctx, sys)
	if err != nil {
		return err
	}
	defer source.Close()
	img, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(source, nil))
	if err != nil {
		return err
	}
	layers := img.LayerInfos()
	cache := blobinfocache.DefaultCache(sys)
	winner := map[string]owner{}
	for i, l := range layers {
		if err := readLayer(ctx, source, cache, l, func(hdr *tar.Header, _ io.Reader) error {
			record(winner, i, hdr)
			return nil
		}); err != nil {
			return fmt.Errorf("reading layer %s: %w", l.Digest, err)
		}
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for i, l := range layers {
		if err := readLayer(ctx, source, cache, l, func(hdr *tar.Header, body io.Reader) error {
			return copyWinner(tw, winner, i, hdr, body)
		}); err != nil {
			return fmt.Errorf("copying layer %s: %w", l.Digest, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// readLayer decompresses one layer and calls entry for each tar entry.
func readLayer(ctx context.Context, source types.ImageSource, cache types.BlobInfoCache, l types.BlobInfo, entry func(*tar.Header, io.Reader) error) error {
	rc, _, err := source.GetBlob(ctx, l, cache)
	if err != nil {
		return err
	}
	defer rc.Close()
	r, _, err := compression.AutoDecompress(rc)
	if err != nil {
		return err
	}
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := entry(hdr, tr); err != nil {
			return err
		}
	}
}

// entryPath returns the clean path of an entry, relative to the root;
// "" for the root itself.
func entryPath(name string) string {
	p := path.Clean("/" + name)
	return strings.TrimPrefix(p, "/")
}

// owner is the layer with the last word on a path so far, and whether
// that layer made it a directory.
type owner struct {
	layer int
	dir   bool
}

// record notes what layer i's entry hdr does to the final tree.
func record(winner map[string]owner, i int, hdr *tar.Header) {
	p := entryPath(hdr.Name)
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case base == opaqueWhiteout:
		deleteBelow(winner, dir)
	case strings.HasPrefix(base, whiteoutPrefix):
		gone := path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))
		delete(winner, gone)
		deleteBelow(winner, gone)
	default:
		isDir := hdr.Typeflag == tar.TypeDir
		if prev, ok := winner[p]; ok && prev.dir && !isDir {
			deleteBelow(winner, p) // a file replacing a directory hides its content
		}
		winner[p] = owner{layer: i, dir: isDir}
	}
}

// deleteBelow removes every path strictly below dir ("" is the root).
func deleteBelow(winner map[string]owner, dir string) {
	prefix := dir + "/"
	for p := range winner {
		if dir == "" && p != "" || strings.HasPrefix(p, prefix) {
			delete(winner, p)
		}
	}
}

// copyWinner writes hdr and its body to tw if layer i has the last word
// on its path; whiteouts themselves are never written.
func copyWinner(tw *tar.Writer, winner map[string]owner, i int, hdr *tar.Header, body io.Reader) error {
	p := entryPath(hdr.Name)
	if strings.HasPrefix(path.Base(p), whiteoutPrefix) {
		return nil
	}
	if w, ok := winner[p]; !ok || w.layer != i {
		return nil
	}
	out := *hdr
	out.Name = p
	if p == "" {
		out.Name = "./"
	} else if hdr.Typeflag == tar.TypeDir {
		out.Name += "/"
	}
	if hdr.Typeflag == tar.TypeLink {
		out.Linkname = entryPath(hdr.Linkname)
	}
	if err := tw.WriteHeader(&out); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if _, err := io.Copy(tw, body); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}
