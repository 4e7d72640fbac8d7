package builder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
)

// reachTimeout bounds the check of one push target.
const reachTimeout = 30 * time.Second

// probeBlob is the digest whose presence a push target is asked about:
// the empty blob's. Its answer (there or not) does not matter, only that
// the registry answered a request made with push credentials.
var probeBlob = digest.FromBytes(nil)

// checkPushTargets makes sure, before anything is pulled or built, that
// the registry of every tag a build pushes to answers and accepts the
// credentials for pushing to that repository; one error lists every
// target that does not, with the next step.
func checkPushTargets(ctx context.Context, o *Options, sys *types.SystemContext, tags []string) error {
	if !o.HasOutput(OutputRegistry) {
		return nil
	}
	var problems []string
	seen := map[string]bool{}
	for _, tag := range tags {
		ref, err := alltransports.ParseImageName("docker://" + tag)
		if err != nil {
			return fmt.Errorf("pushing to %s: %w", tag, err)
		}
		repo := ref.DockerReference().Name()
		if seen[repo] {
			continue
		}
		seen[repo] = true
		if err := reachForPush(ctx, sys, ref); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("build interrupted, nothing was published: %w", ctx.Err())
			}
			problems = append(problems, fmt.Sprintf("%s: %v", tag, index.Explain(err, tag)))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("cannot push to every -t, nothing was built:\n  " + strings.Join(problems, "\n  "))
}

// reachForPush opens ref for writing, as a push does, and makes one round
// trip with the push credentials: a HEAD of a blob in ref's repository,
// authorised for pulling and pushing. Nothing is written.
func reachForPush(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) error {
	ctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	dest, err := ref.NewImageDestination(ctx, sys)
	if err != nil {
		return err
	}
	defer dest.Close()
	_, _, err = dest.TryReusingBlob(ctx, types.BlobInfo{Digest: probeBlob, Size: -1}, none.NoCache, false)
	return err
}
