package builder

import (
	"context"
	"fmt"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
)

// checkShrink reads every -t tag a --push writes and refuses the build
// when a tag lists platforms that ps lacks, unless --allow-shrink; a
// missing tag is fine. Build calls it before building with the requested
// platforms, and again before pushing with those that were built.
func checkShrink(ctx context.Context, o *Options, sys *types.SystemContext, tags []string, ps []specs.Platform) error {
	if !o.HasOutput(OutputRegistry) || o.Fanout.AllowShrink {
		return nil
	}
	for _, tag := range tags {
		ref, err := alltransports.ParseImageName("docker://" + tag)
		if err != nil {
			return fmt.Errorf("pushing to %s: %w", tag, err)
		}
		if err := index.CheckShrink(ctx, sys, ref, ps); err != nil {
			return err
		}
	}
	return nil
}

// platformsOf lists the images' platforms.
func platformsOf(images []PlatformImage) []specs.Platform {
	out := make([]specs.Platform, len(images))
	for i, img := range images {
		out[i] = img.Platform
	}
	return out
}

// digestTarget returns the push-by-digest repository as a reference
// (docker tags it :latest, which nothing writes).
func digestTarget(o *Options) (types.ImageReference, error) {
	named, err := reference.ParseNormalizedNamed(o.Fanout.PushByDigest)
	if err != nil {
		return nil, fmt.Errorf("pushing by digest to %s: %w", o.Fanout.PushByDigest, err)
	}
	return docker.NewReference(reference.TagNameOnly(named))
}

// pushByDigest uploads the staged result untagged to the push-by-digest
// repository and records its name, REG/REPO@DIGEST, for the metadata file.
func pushByDigest(ctx context.Context, o *Options, p *index.Staged, res *Result) error {
	if o.Fanout.PushByDigest == "" {
		return nil
	}
	dest, err := digestTarget(o)
	if err != nil {
		return err
	}
	defer timed("push-by-digest", timingAll)()
	d, err := p.PushByDigest(ctx, dest)
	if err != nil {
		return err
	}
	res.pushedName = o.Fanout.digestRepository() + "@" + d.String()
	return nil
}

// checkDigestTarget makes sure, before anything is built, that the
// push-by-digest repository answers and accepts the push credentials.
func checkDigestTarget(ctx context.Context, o *Options, sys *types.SystemContext) error {
	if o.Fanout.PushByDigest == "" {
		return nil
	}
	dest, err := digestTarget(o)
	if err != nil {
		return err
	}
	if err := reachForPush(ctx, sys, dest); err != nil {
		return fmt.Errorf("cannot push by digest to %s, nothing was built: %w", o.Fanout.PushByDigest, index.Explain(err, o.Fanout.PushByDigest))
	}
	return nil
}
