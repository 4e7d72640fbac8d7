package builder

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/session"
	"github.com/sirupsen/logrus"
	"go.podman.io/buildah/define"
	"go.podman.io/storage"
)

// A rebuild whose inputs are those of an earlier build (same build key,
// see buildkey.go) takes, per platform, the image that build committed,
// without starting buildah's executor: buildah checks every step against
// its layer cache, and for a cached COPY creates, mounts and deletes a
// working container, which takes most of an unchanged rebuild's time.
// The key is recorded, after every build that keeps its layers, in a
// file of polyarch's own under the store's graph root (build-keys/KEY,
// naming the image), not on the image, whose ID would change. A key is
// used only when the image it names is still in the store.
//
// The shortcut stands where buildah's executor would have taken every
// step from its layer cache, and it keys more than that cache does (the
// whole context rather than the files COPY reads). Builds whose inputs a
// key cannot name build as usual: --no-cache, --layers=false,
// --pull=always, --cache-from/--cache-to, --secret, --ssh, an ADD of a
// URL or git repository, RUN secret and SSH mounts, a base or --from
// image polyarch did not resolve to an image ID, a directory or URL
// build context, a preprocessed Containerfile (.in).

// buildKeysDir is where keys are recorded, under the graph root;
// polyarch prune removes those whose image is gone.
const buildKeysDir = session.BuildKeysDir

// keyEntry is what a key's file holds.
type keyEntry = session.BuildKeyEntry

// wholeCache decides, for one build, whether and under which key each
// platform's image can be reused; it reads the Containerfile and hashes
// the context once for every platform.
type wholeCache struct {
	store  storage.Store
	o      *Options
	bypass string // why no key is used; "" when keys are used

	once      sync.Once
	cf        []byte
	ctxDigest string
	err       error
}

// newWholeCache returns the build's whole-build cache; its bypass says why
// the build cannot use one.
func newWholeCache(o *Options, store storage.Store) *wholeCache {
	return &wholeCache{store: store, o: o, bypass: o.keyBypass()}
}

// keyBypass says why o's builds cannot use build keys; "" when they can.
func (o *Options) keyBypass() string {
	switch {
	case o.NoCache:
		return "--no-cache"
	case o.Cache.FinalOnly:
		return "--layers=false"
	case o.Pull == PullAlways:
		return "--pull=always"
	case len(o.Cache.From) > 0 || len(o.Cache.To) > 0:
		return "--cache-from/--cache-to"
	case len(o.Inputs.Secrets) > 0:
		return "--secret"
	case len(o.Inputs.SSH) > 0:
		return "--ssh"
	case o.Inputs.ContainerfileData == nil && strings.HasSuffix(o.Containerfile, ".in"):
		return "a preprocessed Containerfile (.in)"
	case o.Plan == nil || o.Plan.file == nil:
		return "no plan"
	case o.Plan.file.Unkeyed != "":
		return o.Plan.file.Unkeyed
	}
	return ""
}

// inputs reads the Containerfile and hashes the context, once.
func (w *wholeCache) inputs() ([]byte, string, error) {
	w.once.Do(func() {
		if w.cf = w.o.Inputs.ContainerfileData; w.cf == nil {
			if w.cf, w.err = os.ReadFile(w.o.Containerfile); w.err != nil {
				return
			}
		}
		w.ctxDigest, w.err = contextDigest(w.o.ContextDir, w.o.Inputs.IgnoreFile, w.o.Containerfile)
	})
	return w.cf, w.ctxDigest, w.err
}

// key returns the build key of platform p built with opts, or "" (and
// logs why at debug level) when that build cannot use one.
func (w *wholeCache) key(p specs.Platform, opts *define.BuildOptions) string {
	if w == nil {
		return ""
	}
	why := w.bypass
	if why == "" {
		why = w.o.Plan.unresolvedInput(w.o, p, opts.AdditionalBuildContexts)
	}
	var key string
	if why == "" {
		cf, ctxDigest, err := w.inputs()
		if err == nil {
			key, err = buildKey(p, cf, ctxDigest, opts)
		}
		if err != nil {
			why = err.Error()
		}
	}
	if why != "" {
		logrus.Debugf("build key: none for %s: %s", emulation.FormatPlatform(p), why)
	}
	return key
}

// lookup returns the entry of key when the image it names is in the
// store with its layers; nil otherwise.
func (w *wholeCache) lookup(key string) *keyEntry {
	e, err := session.ReadBuildKey(w.path(key))
	if err != nil || !imageIDPattern.MatchString(e.Image) {
		return nil
	}
	img, err := w.store.Image(e.Image)
	if err != nil {
		return nil
	}
	if img.TopLayer != "" {
		if _, err := w.store.Layer(img.TopLayer); err != nil {
			return nil
		}
	}
	return &e
}

// record writes key's entry; a failure only costs the next build its
// shortcut, so it is logged, not returned.
func (w *wholeCache) record(key string, e keyEntry) {
	b, err := json.Marshal(e)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(w.path(key)), 0o700)
	}
	if err == nil {
		err = writeFileAtomic(w.path(key), b)
	}
	if err != nil {
		logrus.Debugf("build key: recording %s: %v", key, err)
	}
}

// path is the file of key.
func (w *wholeCache) path(key string) string {
	return filepath.Join(w.store.GraphRoot(), buildKeysDir, key)
}

// imageIDPattern matches a full image ID.
var imageIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// unresolvedInput says which image a build of target reads that
// polyarch did not hand buildah by ID (a FROM, a COPY --from or a RUN
// mount from an image, a named context that is a directory or URL);
// "" when there is none. contexts are buildah's additional build
// contexts for target.
func (p *Plan) unresolvedInput(o *Options, target specs.Platform, contexts map[string]*define.AdditionalBuildContext) string {
	for name, c := range contexts {
		if !c.IsImage || !imageIDPattern.MatchString(c.Value) {
			return "build context " + name + " is not an image polyarch read by ID"
		}
	}
	built, err := p.file.reachable(o.Target)
	if err != nil {
		return err.Error()
	}
	for i, s := range p.file.Stages {
		if !built[i] {
			continue
		}
		if image := p.file.expand(s.Base, o.BuildArgs, target); contexts[s.Base] == nil && !strings.EqualFold(image, "scratch") && p.file.stageIndex(image, i) < 0 {
			return "base " + image + " is not an image polyarch read by ID"
		}
		for _, from := range s.From {
			if contexts[from] == nil && (strings.Contains(from, "$") || p.file.stageIndex(from, i) < 0) {
				return "--from " + from + " is not a stage or an image polyarch read by ID"
			}
		}
	}
	return ""
}

// reuse returns the image recorded under key for the platform of po,
// and its summary; "" when there is none. It logs the lookup at debug
// level: "timing: phase=build-key platform=P elapsed=D hit=BOOL".
func (w *wholeCache) reuse(key string, po *platformOutput, start time.Time) (string, *PlatformSummary) {
	if key == "" {
		return "", nil
	}
	e := w.lookup(key)
	logrus.Debugf("timing: phase=build-key platform=%s elapsed=%s hit=%t key=%.16s", po.tracker.platform, time.Since(start).Round(time.Millisecond), e != nil, key)
	if e == nil {
		return "", nil
	}
	fmt.Fprintf(po.out, "every step is in the layer cache (build key %.12s): image %s\n", key, e.Image)
	wall := time.Since(start)
	logTiming("build", po.tracker.platform, wall)
	s := summarize(po.tracker.platform, wall, 0, nil)
	s.Steps, s.Cached = e.Steps, e.Steps
	return e.Image, &s
}
