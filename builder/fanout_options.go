package builder

import (
	"fmt"
	"strings"

	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/docker/reference"
)

// ExitPartial is the exit status of a --keep-going build in which some
// platforms failed and the others were published.
const ExitPartial = 3

// FanoutOptions configure a build that is one node of several (each
// building some platforms, merged later with `index create
// --from-metadata`) and what a build may publish.
type FanoutOptions struct {
	// PushByDigest is a registry repository, REG/REPO, receiving the
	// result untagged: every blob, each platform's image manifest by
	// digest and, for several platforms, the index by digest. No tag is
	// read or written there (--push-by-digest). Default: none.
	PushByDigest string
	// KeepGoing lets the other platforms finish when one fails; the
	// successful ones are published (as an index when several platforms
	// were requested) and Build returns a *PartialError (--keep-going).
	// Default: the first failure stops every platform, nothing is published.
	KeepGoing bool
	// AllowShrink lets --push replace a published tag listing platforms
	// the new result lacks (--allow-shrink). Default: refused before
	// anything is built, and again before anything is pushed.
	AllowShrink bool
}

// validate checks the push-by-digest repository: a registry
// repository, without tag or digest.
func (f FanoutOptions) validate() error {
	if f.PushByDigest == "" {
		return nil
	}
	named, err := reference.ParseNormalizedNamed(f.PushByDigest)
	if err != nil {
		return fmt.Errorf("invalid --push-by-digest %q: %v: use REGISTRY/REPOSITORY, e.g. quay.io/you/app", f.PushByDigest, err)
	}
	if !reference.IsNameOnly(named) {
		return fmt.Errorf("invalid --push-by-digest %q: give a repository without tag or digest (REGISTRY/REPOSITORY): the result is pushed by digest, untagged", f.PushByDigest)
	}
	if n, err := index.NormalizeName(f.PushByDigest); err == nil && strings.HasPrefix(n, "localhost/") {
		return fmt.Errorf("invalid --push-by-digest %q: it names no registry; use REGISTRY/REPOSITORY, e.g. quay.io/you/app", f.PushByDigest)
	}
	return nil
}

// validateShrink refuses --allow-shrink on a build that pushes no tag:
// the shrink guard only reads the tags a registry output (--push or
// -o type=registry) replaces; --push-by-digest and layout or archive
// outputs write no registry tag, so the flag would change nothing.
func (o *Options) validateShrink() error {
	if !o.Fanout.AllowShrink || o.HasOutput(OutputRegistry) {
		return nil
	}
	if o.Fanout.PushByDigest != "" {
		return fmt.Errorf("--allow-shrink applies to a tag that --push replaces; --push-by-digest writes no tag, so nothing can shrink: drop --allow-shrink, or pass it to the merge (polyarch index create --from-metadata … --allow-shrink)")
	}
	return fmt.Errorf("--allow-shrink applies only to --push (or -o type=registry), which may replace a published tag: add --push, or drop --allow-shrink")
}

// digestRepository returns the normalised push-by-digest repository.
func (f FanoutOptions) digestRepository() string {
	named, err := reference.ParseNormalizedNamed(f.PushByDigest)
	if err != nil {
		return f.PushByDigest
	}
	return named.Name()
}
