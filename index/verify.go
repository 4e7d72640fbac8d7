package index

import (
	"context"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

// A registry's success answer proves nothing: one that answers 200 to
// everything (or a proxy serving something else) would have a push
// "succeed" with nothing stored. After pushing, polyarch reads back every
// child manifest by digest and the top manifest by tag, and compares
// digests.

// NotStoredError is a push the registry acknowledged but does not serve
// back: a manifest missing, or other bytes under the digest or the tag.
type NotStoredError struct {
	// Registry is the registry host; Image is what was read back
	// (host/repo:tag or host/repo@digest).
	Registry, Image string
	// Pushed is the digest pushed; Got what was read back ("" if nothing).
	Pushed, Got digest.Digest
	// Err is the failure reading it back, if any.
	Err error
}

// Error names the registry, the image and both digests.
func (e *NotStoredError) Error() string {
	got := "nothing"
	switch {
	case e.Err != nil:
		got = fmt.Sprintf("an error (%v)", e.Err)
	case e.Got != "":
		got = e.Got.String()
	}
	return fmt.Sprintf("the registry %s did not store what was pushed: %s reads back as %s, pushed %s "+
		"(check the registry, or the proxy in front of it, and push again)", e.Registry, e.Image, got, e.Pushed)
}

// Unwrap returns the read failure, if any.
func (e *NotStoredError) Unwrap() error { return e.Err }

// verifyChildren reads each of the manifests ds back by digest from the
// repository of the registry reference dest, through one connection.
func verifyChildren(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, ds []digest.Digest) error {
	named := dest.DockerReference()
	if named == nil || len(ds) == 0 {
		return nil
	}
	first, err := byDigest(named, ds[0])
	if err != nil {
		return err
	}
	src, err := first.NewImageSource(ctx, sys)
	if err != nil {
		return checkReadBack(first, ds[0], nil, err)
	}
	defer src.Close()
	return verifyFrom(ctx, src, named, ds, true)
}

// verifyFrom reads each of the manifests ds back by digest through src,
// an image source of their repository (named); with firstIsSrc, ds[0] is
// src's own manifest.
// The manifests are read a few at a time; the error reported is the
// first in the order of ds.
func verifyFrom(ctx context.Context, src types.ImageSource, named reference.Named, ds []digest.Digest, firstIsSrc bool) error {
	return eachInParallel(len(ds), manifestReads, func(i int) error {
		d := ds[i]
		ref, err := byDigest(named, d)
		if err != nil {
			return err
		}
		instance := &d
		if i == 0 && firstIsSrc {
			instance = nil
		}
		raw, _, err := src.GetManifest(ctx, instance)
		return checkReadBack(ref, d, raw, err)
	})
}

// byDigest returns the registry reference to manifest d in named's repository.
func byDigest(named reference.Named, d digest.Digest) (types.ImageReference, error) {
	canonical, err := reference.WithDigest(reference.TrimNamed(named), d)
	if err != nil {
		return nil, err
	}
	return docker.NewReference(canonical)
}

// verifyPushed reads the top manifest of the registry reference dest
// back (by its tag) and checks that it is want; for an index, each
// manifest it lists is read back by digest too, through the same
// connection.
func verifyPushed(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, want digest.Digest) error {
	src, err := dest.NewImageSource(ctx, sys)
	if err != nil {
		return checkReadBack(dest, want, nil, err)
	}
	defer src.Close()
	raw, mime, err := src.GetManifest(ctx, nil)
	if err == nil && digest.FromBytes(raw) == want && manifest.MIMETypeIsMultiImage(mime) {
		list, err := manifest.ListFromBlob(raw, mime)
		if err != nil {
			return fmt.Errorf("parsing index %s read back from %s: %w", want, displayName(dest), err)
		}
		if named := dest.DockerReference(); named != nil {
			return verifyFrom(ctx, src, named, list.Instances(), false)
		}
		return nil
	}
	return checkReadBack(dest, want, raw, err)
}

// readBack fetches the top manifest of ref.
func readBack(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) ([]byte, string, error) {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, "", err
	}
	defer src.Close()
	return src.GetManifest(ctx, nil)
}

// checkReadBack turns a failed or different read-back into a
// NotStoredError naming ref.
func checkReadBack(ref types.ImageReference, want digest.Digest, raw []byte, err error) error {
	name := displayName(ref)
	e := &NotStoredError{Registry: registryOf(name), Image: name, Pushed: want, Err: err}
	if err != nil {
		return e
	}
	if len(raw) > 0 {
		e.Got = digest.FromBytes(raw)
	}
	if e.Got != want {
		return e
	}
	return nil
}
