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
// repository of the registry reference dest.
func verifyChildren(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, ds []digest.Digest) error {
	named := dest.DockerReference()
	if named == nil || len(ds) == 0 {
		return nil
	}
	repo := reference.TrimNamed(named)
	for _, d := range ds {
		byDigest, err := reference.WithDigest(repo, d)
		if err != nil {
			return err
		}
		ref, err := docker.NewReference(byDigest)
		if err != nil {
			return err
		}
		if err := verifyManifest(ctx, sys, ref, d); err != nil {
			return err
		}
	}
	return nil
}

// verifyPushed reads the top manifest of the registry reference dest
// back (by its tag) and checks that it is want; for an index, each
// manifest it lists is read back by digest too.
func verifyPushed(ctx context.Context, sys *types.SystemContext, dest types.ImageReference, want digest.Digest) error {
	raw, mime, err := readBack(ctx, sys, dest)
	if err == nil && digest.FromBytes(raw) == want && manifest.MIMETypeIsMultiImage(mime) {
		list, err := manifest.ListFromBlob(raw, mime)
		if err != nil {
			return fmt.Errorf("parsing index %s read back from %s: %w", want, displayName(dest), err)
		}
		return verifyChildren(ctx, sys, dest, list.Instances())
	}
	return checkReadBack(dest, want, raw, err)
}

// verifyManifest reads ref's manifest back and checks that it is want.
func verifyManifest(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, want digest.Digest) error {
	raw, _, err := readBack(ctx, sys, ref)
	return checkReadBack(ref, want, raw, err)
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
