package index

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/common/pkg/retry"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/signature/signer"
	"go.podman.io/image/v5/types"
)

// Manifest formats accepted by CopyOptions.Format (and PushOptions.Format).
const (
	// FormatOCI is OCI image manifests in an OCI image index.
	FormatOCI = "oci"
	// FormatV2S2 is Docker schema 2 manifests in a Docker manifest list.
	FormatV2S2 = "v2s2"
)

// DefaultRetry is how many times a step failing for a transient cause (a
// network error, a 5xx or 429 answer) is tried again, with exponential
// backoff from 1s, unless told otherwise: the default of CopyOptions.Retry,
// PushOptions.Retry and of the --retry flags of copy, index push and build.
const DefaultRetry = 2

// retryCount returns *n, or DefaultRetry for nil.
func retryCount(n *uint) uint {
	if n == nil {
		return DefaultRetry
	}
	return *n
}

// CopyOptions configures Copy. The zero value copies every platform,
// keeping every digest, with DefaultRetry retries and no progress output.
type CopyOptions struct {
	// Platforms selects the platforms to copy from an index; empty copies
	// all of them and keeps the index and every child byte for byte.
	// With a subset, the destination gets a rewritten index holding only
	// those platforms, with a new digest.
	Platforms []specs.Platform
	// SourceCtx and DestinationCtx configure each side (TLS, credentials,
	// certificates); see SystemContext. DestinationCtx.BlobInfoCacheDir
	// should be a persistent directory: the blob info cache is what lets
	// a copy between two repositories of one registry mount blobs instead
	// of uploading them.
	SourceCtx, DestinationCtx *types.SystemContext
	// Format converts manifests to FormatOCI or FormatV2S2; "" keeps them
	// as they are.
	Format string
	// Compression recompresses every layer not already in
	// Compression.Format; the zero value keeps blobs as they are (byte for
	// byte) and compresses only layers written anew, out of local storage.
	// A Level needs a Format.
	Compression Compression
	// Retry is how many times a failed copy is tried again when the
	// failure looks transient; default (nil) DefaultRetry. RetryDelay is
	// the wait between tries (default: exponential from 1s).
	Retry      *uint
	RetryDelay time.Duration
	// MaxLayerSize caps the uncompressed size of a gzip layer unpacked
	// into local storage (see LayerTooLargeError); 0 is
	// DefaultMaxLayerSize.
	MaxLayerSize int64
	// AllowNondistributable fetches foreign layers from their urls and
	// copies their content; by default they are never fetched (see
	// ForeignLayersError).
	AllowNondistributable bool
	// DigestFile, if set, receives the digest of what was written.
	DigestFile string
	// ReportWriter receives progress; nil means silence.
	ReportWriter io.Writer
	// Sign signs every image manifest and the index written to a
	// registry destination; the source's signatures are kept as well,
	// as skopeo copy keeps them, unless RemoveSignatures.
	Sign SignOptions
	// RemoveSignatures drops the source's signatures, for destinations
	// that cannot store them (OCI layouts, local storage).
	RemoveSignatures bool

	// SkipReferrers leaves out the referrers (provenance and other OCI
	// 1.1 artifacts) of the source's index and children, which a copy
	// between registries and OCI layouts carries by default.
	SkipReferrers bool

	// signer is Sign, opened by Copy.
	signer *signer.Signer
}

// CopyResult describes what Copy wrote.
type CopyResult struct {
	// Digest is the digest of the top-level manifest written at the
	// destination.
	Digest digest.Digest
	// SourceDigest is the digest of the source's top-level manifest.
	SourceDigest digest.Digest
	// MediaType is the source's top-level manifest type.
	MediaType string
	// Platforms are the platforms copied out of an index, in index order;
	// nil when the whole index or a single image was copied.
	Platforms []specs.Platform
	// SourcePlatforms are the platforms the source offers.
	SourcePlatforms []specs.Platform
}

// Rewritten reports whether the destination holds a manifest other than
// the source's: a subset of an index, or a converted format.
func (r *CopyResult) Rewritten() bool { return r.Digest != r.SourceDigest }

// Validate checks the options before any work; its errors name the flags.
func (opts CopyOptions) Validate() error {
	switch opts.Format {
	case "", FormatOCI, FormatV2S2:
	default:
		return fmt.Errorf("invalid --format %q: use %s or %s", opts.Format, FormatOCI, FormatV2S2)
	}
	if opts.MaxLayerSize < 0 {
		return fmt.Errorf("invalid --max-layer-size %d: give a positive size such as 64GiB", opts.MaxLayerSize)
	}
	if opts.Compression.Level != nil && opts.Compression.Format == "" {
		return fmt.Errorf("--compression-level needs --compression-format: without it copy keeps every blob as it is")
	}
	if err := opts.Compression.checkFormat(opts.Format); err != nil {
		return err
	}
	if err := opts.Sign.Validate(); err != nil {
		return err
	}
	return opts.Compression.Validate()
}

// Copy copies the image or index src to dst, between any two transports.
// Requested platforms are checked before anything is written: if src
// lacks one, the error lists what src has. Child manifests and blobs are
// kept byte for byte unless opts.Format or opts.Compression asks for a
// change (or dst cannot hold them as they are); with a platform subset,
// only the index is rewritten. What a registry destination acknowledged
// is read back (see NotStoredError).
func Copy(ctx context.Context, src, dst types.ImageReference, opts CopyOptions) (*CopyResult, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	srcName, dstName := refName(src), refName(dst)
	closeSigner, err := openCopySigner(&opts, dst)
	if err != nil {
		return nil, err
	}
	defer closeSigner()
	if isStorage(dst) && !isStorage(src) {
		src = BoundLayers(src, opts.MaxLayerSize)
	}
	var refs *carried
	conn := dialReferrers(ctx, src, dst, opts)
	plan, err := planCopyWith(ctx, src, opts, func(plan *copyPlan) (err error) {
		if refs, err = listCarried(ctx, src, dst, plan.src, conn, opts, plan); err != nil {
			return fmt.Errorf("copying %s to %s: %w", srcName, dstName, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	src, closeUnused := handOff(src, plan)
	defer closeUnused()
	if !opts.AllowNondistributable && !acceptsForeignURLs(dst) && !isStorage(src) {
		if err := checkForeign(ctx, src, opts.SourceCtx, plan.instances, dst); err != nil {
			return nil, err
		}
	}
	policy, err := policyContext(opts.DestinationCtx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = policy.Destroy() }()
	copyImage := func(ctx context.Context, dst, src types.ImageReference, o *cp.Options) ([]byte, error) {
		return cp.Image(ctx, policy, dst, src, o)
	}
	var d digest.Digest
	err = retry.IfNecessary(ctx, func() error {
		var err error
		d, err = routeTo(ctx, copyImage, src, dst, opts, plan, refs)
		return err
	}, &retry.Options{MaxRetry: int(retryCount(opts.Retry)), Delay: opts.RetryDelay})
	if err == nil && dst.Transport().Name() == "docker" {
		err = verifyPushed(ctx, opts.DestinationCtx, dst, d)
	}
	if err != nil {
		return nil, fmt.Errorf("copying %s to %s: %w", srcName, dstName, Explain(err, blame(err, srcName, dstName)))
	}
	if opts.DigestFile != "" {
		if err := os.WriteFile(opts.DigestFile, []byte(d.String()), 0o644); err != nil {
			return nil, fmt.Errorf("writing digest of %s to %s: %w", dstName, opts.DigestFile, err)
		}
	}
	return &CopyResult{Digest: d, SourceDigest: plan.digest, MediaType: plan.mime, Platforms: plan.chosen, SourcePlatforms: plan.offered}, nil
}

// routeTo is route, through a private staging layout merged under the
// layout's lock when dst is an oci: layout (see writeLayout), or a
// staging archive renamed into place when dst is an oci-archive: file
// (see writeArchive).
func routeTo(ctx context.Context, copyImage policyCopier, src, dst types.ImageReference, opts CopyOptions, plan *copyPlan, refs *carried) (digest.Digest, error) {
	switch dst.Transport().Name() {
	case "oci-archive":
		return writeArchive(ctx, dst, func(staged types.ImageReference) (digest.Digest, error) {
			return route(ctx, copyImage, src, staged, opts, plan)
		})
	case "oci":
	default:
		d, err := route(ctx, copyImage, src, dst, opts, plan)
		if err == nil {
			err = copyReferrers(ctx, src, dst, opts, refs, d)
		}
		return d, err
	}
	return writeLayout(ctx, dst, func(staged types.ImageReference) (digest.Digest, error) {
		d, err := route(ctx, copyImage, src, staged, opts, plan)
		if err == nil {
			err = copyReferrers(ctx, src, staged, opts, refs, d)
		}
		return d, err
	})
}

// route makes one attempt at the copy, by the path src and dst need, and
// returns the digest of what was written.
func route(ctx context.Context, copyImage policyCopier, src, dst types.ImageReference, opts CopyOptions, plan *copyPlan) (digest.Digest, error) {
	if manifest.MIMETypeIsMultiImage(plan.mime) {
		switch {
		case isStorage(src):
			return copyFromStoredList(ctx, copyImage, src, dst, opts)
		case isStorage(dst):
			return copyIntoStorage(ctx, copyImage, src, dst, opts, plan)
		}
	}
	if plan.instances != nil && keepsChildren(opts, dst, plan.mime) && !signing(opts, src, dst) {
		return copyEntries(ctx, src, dst, opts, plan.instances)
	}
	co, err := copyOptions(opts, plan, dst)
	if err != nil {
		return "", err
	}
	written, err := copyImage(ctx, dst, src, co)
	if err != nil && co.PreserveDigests && strings.Contains(err.Error(), "preserve digests") {
		co.PreserveDigests = false // dst cannot store the manifests as they are
		written, err = copyImage(ctx, dst, src, co)
	}
	if err != nil {
		return "", err
	}
	return manifest.Digest(written)
}

// copyPlan is what Copy learned from the source before copying.
type copyPlan struct {
	digest    digest.Digest
	mime      string
	offered   []specs.Platform
	chosen    []specs.Platform // nil: everything
	instances []digest.Digest  // nil: everything
	// children are the digests of the entries of an index, in order.
	children []digest.Digest
	// src is the source planCopy read, still open: the copy reads from
	// it (see handoffRef) instead of opening and reading the source again.
	src types.ImageSource
}

// planCopy reads the source's top-level manifest and picks the instances
// for opts.Platforms, failing if one is missing. On success the plan holds
// the source it read, open, for the copy (the caller closes it).
func planCopy(ctx context.Context, ref types.ImageReference, opts CopyOptions) (*copyPlan, error) {
	return planCopyWith(ctx, ref, opts, nil)
}

// planCopyWith is planCopy running also, if set, on the plan while the
// index's children are checked (see checkDocuments), once every
// requested platform is known to be there: also reads through the
// plan's source, as the checks do. A failed check is reported before a
// missing platform, and both before an error of also.
func planCopyWith(ctx context.Context, ref types.ImageReference, opts CopyOptions, also func(*copyPlan) error) (_ *copyPlan, err error) {
	src, err := ref.NewImageSource(ctx, opts.SourceCtx)
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", displayName(ref), Explain(err, refName(ref)))
	}
	defer func() {
		if err != nil {
			_ = src.Close()
		}
	}()
	in, err := inspectSource(ctx, ref, src, opts.SourceCtx)
	if err != nil {
		return nil, err
	}
	plan, missing := selectPlan(ref, in, opts.Platforms)
	plan.src = src
	var alsoErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if also != nil && missing == nil {
			alsoErr = also(plan)
		}
	}()
	err = checkDocuments(ctx, ref, src, in)
	<-done
	for _, e := range []error{err, missing, alsoErr} {
		if e != nil {
			return nil, e
		}
	}
	return plan, nil
}

// selectPlan makes the plan of a copy of in (read from ref) for the
// platforms want (all if none), or says which is missing.
func selectPlan(ref types.ImageReference, in *Inspection, want []specs.Platform) (*copyPlan, error) {
	plan := &copyPlan{digest: in.Digest, mime: in.MediaType, offered: entryPlatforms(in.Manifests)}
	for _, e := range in.Manifests {
		plan.children = append(plan.children, e.Digest)
	}
	if in.Platform != nil && usable(*in.Platform) {
		plan.offered = []specs.Platform{emulation.NormalizePlatform(*in.Platform)}
	}
	for _, w := range want {
		if !Offers(plan.offered, w) {
			return plan, fmt.Errorf("%s has no %s image; it has %s (choose among those with --platform, or copy them all with --all)",
				refName(ref), emulation.FormatPlatform(w), FormatPlatforms(plan.offered))
		}
	}
	if len(want) > 0 && len(in.Manifests) > 0 {
		plan.instances, plan.chosen = selectInstances(in.Manifests, want)
		if len(plan.instances) == len(in.Manifests) {
			plan.instances, plan.chosen = nil, nil // every entry: a full copy
		}
	}
	return plan, nil
}

// entryPlatforms returns the usable, normalised platforms of entries.
func entryPlatforms(entries []specs.Descriptor) []specs.Platform {
	var out []specs.Platform
	for _, e := range entries {
		if e.Platform != nil && usable(*e.Platform) {
			out = append(out, emulation.NormalizePlatform(*e.Platform))
		}
	}
	return out
}

// attestationRef is the annotation by which an attestation manifest
// (platform unknown/unknown) names the image it describes.
const attestationRef = "vnd.docker.reference.digest"

// selectInstances returns the entries matching want (strictly, after
// normalisation), with the attestation manifests describing them, in
// index order, and the platforms chosen.
func selectInstances(entries []specs.Descriptor, want []specs.Platform) ([]digest.Digest, []specs.Platform) {
	var ds []digest.Digest
	var chosen []specs.Platform
	picked := map[digest.Digest]bool{}
	for _, e := range entries {
		if e.Platform != nil && usable(*e.Platform) && wanted(want, emulation.NormalizePlatform(*e.Platform)) {
			ds, picked[e.Digest] = append(ds, e.Digest), true
			chosen = append(chosen, emulation.NormalizePlatform(*e.Platform))
		}
	}
	for _, e := range entries {
		if ref := e.Annotations[attestationRef]; ref != "" && picked[digest.Digest(ref)] && !picked[e.Digest] {
			ds, picked[e.Digest] = append(ds, e.Digest), true
		}
	}
	return ds, chosen
}

// wanted reports whether p is one of want, strictly.
func wanted(want []specs.Platform, p specs.Platform) bool {
	for _, w := range want {
		if platforms.OnlyStrict(w).Match(p) {
			return true
		}
	}
	return false
}

// copyOptions turns opts and the plan into containers/image options.
func copyOptions(opts CopyOptions, plan *copyPlan, dst types.ImageReference) (*cp.Options, error) {
	co := &cp.Options{
		SourceCtx:             opts.SourceCtx,
		DestinationCtx:        opts.DestinationCtx,
		ReportWriter:          opts.ReportWriter,
		ImageListSelection:    cp.CopyAllImages,
		DownloadForeignLayers: opts.AllowNondistributable,
		Signers:               signers(opts.signer),
		RemoveSignatures:      opts.RemoveSignatures,
	}
	if opts.Compression.Format != "" {
		sys, err := opts.Compression.apply(opts.DestinationCtx, false)
		if err != nil {
			return nil, err
		}
		co.DestinationCtx, co.ForceCompressionFormat = sys, true
	}
	switch opts.Format {
	case "":
		co.PreserveDigests = plan.instances == nil && storesAsIs(dst, plan.mime) && opts.Compression.Format == ""
	case FormatOCI:
		co.ForceManifestMIMEType = specs.MediaTypeImageManifest
	case FormatV2S2:
		co.ForceManifestMIMEType = manifest.DockerV2Schema2MediaType
	default:
		return nil, fmt.Errorf("invalid manifest format %q: use %s or %s", opts.Format, FormatOCI, FormatV2S2)
	}
	if plan.instances != nil {
		co.ImageListSelection = cp.CopySpecificImages
		co.Instances = plan.instances
		co.SparseManifestListAction = cp.StripSparseManifestList
		co.RemoveListSignatures = true // the index is rewritten: its signatures cannot hold; its images' are kept
	}
	return co, nil
}

// keepsChildren reports whether a platform subset of an index of type
// mime can go to dst with every child manifest and blob unchanged: no
// conversion or recompression asked, and a destination that stores
// indexes of that type.
func keepsChildren(opts CopyOptions, dst types.ImageReference, mime string) bool {
	if opts.Format != "" || opts.Compression.Format != "" || !storesAsIs(dst, mime) {
		return false
	}
	switch dst.Transport().Name() {
	case "docker", "oci", "oci-archive":
		return true
	}
	return false
}

// copyEntries writes the entries keep of the index src, with their blobs,
// to dst byte for byte, then an index listing only them under dst's tag.
func copyEntries(ctx context.Context, src, dst types.ImageReference, opts CopyOptions, keep []digest.Digest) (digest.Digest, error) {
	t, err := openTransfer(ctx, opts.SourceCtx, src, keep)
	if err != nil {
		return "", err
	}
	defer t.close()
	if err := t.checkPolicy(ctx, opts.DestinationCtx, refName(src)); err != nil {
		return "", err
	}
	t.fetchForeign = opts.AllowNondistributable
	return t.send(ctx, opts.DestinationCtx, dst, opts.ReportWriter)
}

// storesAsIs reports whether dst can store manifests of type mime
// unchanged: OCI layouts hold only OCI manifests, docker-archive only
// single Docker images.
func storesAsIs(dst types.ImageReference, mime string) bool {
	switch dst.Transport().Name() {
	case "oci", "oci-archive":
		return mime == specs.MediaTypeImageIndex || mime == specs.MediaTypeImageManifest
	case "docker-archive":
		return mime == manifest.DockerV2Schema2MediaType
	}
	return true
}

// policyContext returns the signature policy of sys (SystemContext always
// sets one), or the host's default.
func policyContext(sys *types.SystemContext) (*signature.PolicyContext, error) {
	policy, err := signature.DefaultPolicy(sys)
	if err != nil {
		return nil, fmt.Errorf("reading signature policy: %w", err)
	}
	pc, err := signature.NewPolicyContext(policy)
	if err != nil {
		return nil, fmt.Errorf("loading signature policy: %w", err)
	}
	return pc, nil
}

// blame guesses which side of a copy an error is about, for Explain:
// containers/image words destination failures with "destination",
// "writing" or "upload".
func blame(err error, src, dst string) string {
	if containsAny(err.Error(), "destination", "writing", "upload") {
		return dst
	}
	return src
}
