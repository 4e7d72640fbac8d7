package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"github.com/polyarch/polyarch/session"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// copyFlags holds the raw flags of polyarch copy.
type copyFlags struct {
	All        bool
	Platforms  cli.StringSlice
	Format     string
	DigestFile string
	Retry      uint
	Quiet      bool
	// AllowForeign fetches foreign layers from their urls.
	AllowForeign bool
	// MaxLayerSize caps a gzip layer's inflated size, e.g. "64GiB".
	MaxLayerSize string
	// Registry access for both sides, and overrides for each.
	both, src, dst *registryFlags
	comp           *compressionFlags
	sign           *signFlags
	// RemoveSignatures drops the source's signatures.
	RemoveSignatures bool
	// Referrers carries the source's referrers (default true).
	Referrers bool
}

// newCopyCommand returns `polyarch copy`.
func newCopyCommand(g *globalOptions) *cli.Command {
	f := &copyFlags{}
	var both, src, dst, comp, sign []cli.Flag
	sign, f.sign = newSignFlags("every image and the index written to a registry")
	comp, f.comp = newCompressionFlags("recompress every layer not already in that format (default: keep blobs as they are)")
	both, f.both = newRegistryFlags("")
	src, f.src = newRegistryFlags("src-")
	dst, f.dst = newRegistryFlags("dest-")
	return &cli.Command{
		Name:      "copy",
		Usage:     "copy an image or a whole index between registries, layouts, archives and local storage",
		ArgsUsage: "SOURCE DESTINATION",
		Description: "SOURCE and DESTINATION are docker://REG/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE[:TAG],\n" +
			"containers-storage:NAME, or a bare name (local storage if it holds it, else its registry).\n" +
			"By default every platform is copied and every digest is kept. With --platform, the\n" +
			"destination gets a rewritten index of those platforms only, with a new digest; their\n" +
			"image manifests and blobs are kept byte for byte. --compression-format recompresses.\n" +
			"--tls-verify, --cert-dir, --authfile and --creds apply to both sides; the src- and dest-\n" +
			"forms override them for one side.",
		Flags: append(append(append(append([]cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "copy every platform, keeping every digest (the default)", Destination: &f.All},
			&cli.StringSliceFlag{Name: "platform", Usage: "copy only `OS/ARCH[/VARIANT]`, comma list or repeated", Destination: &f.Platforms},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "convert manifests to `FORMAT`: oci or v2s2 (default: keep them)", Destination: &f.Format},
			&cli.StringFlag{Name: "digestfile", Usage: "write the digest of what was written at DESTINATION to `FILE`", Destination: &f.DigestFile},
			&cli.UintFlag{Name: "retry", Value: index.DefaultRetry, Usage: "retry a copy failing for a transient cause `N` times, with backoff", Destination: &f.Retry},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no progress", Destination: &f.Quiet},
			maxLayerSizeFlag(&f.MaxLayerSize, "refuse a gzip layer inflating past `SIZE` when unpacking into local storage"),
			&cli.BoolFlag{Name: "remove-signatures", Usage: "do not copy the source's signatures (kept by default, as skopeo copy keeps them)", Destination: &f.RemoveSignatures},
			&cli.BoolFlag{Name: "referrers", Value: true, Usage: "copy the referrers (provenance and other OCI 1.1 artifacts) of the index and of each child kept byte for byte, between registries and OCI layouts", Destination: &f.Referrers},
			&cli.BoolFlag{Name: "allow-nondistributable-artifacts", Usage: "fetch foreign layers from their urls (never sending credentials) and copy their content; by default they are never fetched: registries and layouts keep the urls, local storage refuses them", Destination: &f.AllowForeign},
		}, comp...), both...), src...), append(dst, sign...)...),
		Action: func(c *cli.Context) error { return f.run(c, g) },
	}
}

// run copies SOURCE to DESTINATION.
func (f *copyFlags) run(c *cli.Context, g *globalOptions) error {
	opts, err := f.options(c, g)
	if err != nil {
		return cli.Exit(err.Error(), 125)
	}
	if err := g.parsed(); err != nil {
		return err
	}
	r, err := newResolver(g, c.Args().Slice()...)
	if err != nil {
		return err
	}
	defer r.close()
	srcRef, dstRef, err := r.pair(c.Args().Get(0), c.Args().Get(1))
	if err != nil {
		return cli.Exit(err.Error(), 125)
	}
	if opts.SourceCtx, err = r.systemContext(merge(f.both.options(c), f.src.options(c))); err != nil {
		return err
	}
	if opts.DestinationCtx, err = r.systemContext(merge(f.both.options(c), f.dst.options(c))); err != nil {
		return err
	}
	res, err := index.Copy(c.Context, srcRef, dstRef, opts)
	if err != nil {
		return err
	}
	reportCopy(g, res, c.Args().Get(1))
	return nil
}

// options validates the flags and turns them into copy options; the
// system contexts are filled in by the caller.
func (f *copyFlags) options(c *cli.Context, g *globalOptions) (index.CopyOptions, error) {
	if c.NArg() != 2 {
		return index.CopyOptions{}, fmt.Errorf("polyarch copy takes SOURCE and DESTINATION, got %d arguments", c.NArg())
	}
	if f.All && len(f.Platforms.Value()) > 0 {
		return index.CopyOptions{}, fmt.Errorf("--all and --platform are mutually exclusive: --all copies every platform")
	}
	platforms, err := emulation.ParsePlatforms(f.Platforms.Value())
	if err != nil {
		return index.CopyOptions{}, err
	}
	if len(f.Platforms.Value()) == 0 {
		platforms = nil
	}
	maxLayer, err := parseMaxLayerSize(f.MaxLayerSize)
	if err != nil {
		return index.CopyOptions{}, err
	}
	retry := f.Retry
	opts := index.CopyOptions{MaxLayerSize: maxLayer, Platforms: platforms, Format: f.Format, Compression: f.comp.options(), Retry: &retry, DigestFile: f.DigestFile, AllowNondistributable: f.AllowForeign,
		Sign: f.sign.options(), RemoveSignatures: f.RemoveSignatures, SkipReferrers: !f.Referrers}
	if err := opts.Validate(); err != nil {
		return index.CopyOptions{}, err
	}
	if !f.Quiet {
		opts.ReportWriter = g.Stderr
	}
	return opts, nil
}

// reportCopy prints the digest written, and says on stderr when the
// destination holds another manifest than the source.
func reportCopy(g *globalOptions, res *index.CopyResult, dst string) {
	switch {
	case res.Platforms != nil:
		fmt.Fprintf(g.Stderr, "index rewritten for %s: %s of the %d platforms of the source (%s); new digest %s, source digest %s\n",
			dst, index.FormatPlatforms(res.Platforms), len(res.SourcePlatforms), index.FormatPlatforms(res.SourcePlatforms), res.Digest, res.SourceDigest)
	case res.Rewritten():
		fmt.Fprintf(g.Stderr, "%s holds a rewritten manifest (converted, or stored anew): new digest %s, source digest %s\n", dst, res.Digest, res.SourceDigest)
	}
	fmt.Fprintln(g.Stdout, res.Digest)
}

// merge returns side, completed by the options given for both sides.
func merge(both, side index.RegistryOptions) index.RegistryOptions {
	if side.TLSVerify == nil {
		side.TLSVerify = both.TLSVerify
	}
	side.CertDir = firstSet(side.CertDir, both.CertDir)
	side.AuthFile = firstSet(side.AuthFile, both.AuthFile)
	side.Creds = firstSet(side.Creds, both.Creds)
	side.RegistriesDir = firstSet(side.RegistriesDir, both.RegistriesDir)
	side.PolicyPath = firstSet(side.PolicyPath, both.PolicyPath)
	return side
}

// firstSet returns the first non-empty value.
func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// resolver parses the image arguments of copy and index inspect, opening
// local storage only when one of them may live there.
type resolver struct {
	graphRoot string // "" when the store could not be resolved
	store     storage.Store
}

// newResolver opens the store the global flags select if one of args is
// a containers-storage: reference or a bare name; not as root, it
// returns first the *session.Reexec that enters a user namespace, as
// podman does. When the store cannot be used and no argument needs it,
// bare names refer to registries.
func newResolver(g *globalOptions, args ...string) (*resolver, error) {
	sc, resolveErr := session.ResolveStore(g.storeOptions())
	r := &resolver{graphRoot: sc.Options.GraphRoot}
	needed, required := false, false
	for _, a := range args {
		needed = needed || !index.HasTransport(a)
		required = required || strings.HasPrefix(a, "containers-storage:")
	}
	if !needed && !required {
		return r, nil
	}
	re, err := session.StorageNamespace()
	if re != nil {
		return nil, re
	}
	if err == nil {
		err = resolveErr
	}
	if err == nil {
		r.store, err = session.OpenStore(sc, nil)
	}
	if err != nil {
		if required {
			return nil, err
		}
		logrus.Debugf("local storage unavailable, bare names refer to registries: %v", err)
	}
	return r, nil
}

// pair parses a source and a destination. A bare destination name that
// local storage holds names that image in local storage, so the copy
// moves the name there; otherwise it is a registry image.
func (r *resolver) pair(src, dst string) (types.ImageReference, types.ImageReference, error) {
	s, err := index.ParseReference(src, r.store)
	if err != nil {
		return nil, nil, err
	}
	if r.store != nil && !index.HasTransport(dst) && index.LocalReference(r.store, dst) != nil {
		name, err := index.NormalizeName(dst)
		if err != nil {
			return nil, nil, err
		}
		dst = "containers-storage:" + name
	}
	d, err := index.ParseReference(dst, nil)
	return s, d, err
}

// systemContext returns the system context for reg, with the blob info
// cache shared with builds (GRAPHROOT/cache), so copies between
// repositories of one registry can mount the blobs it knows.
func (r *resolver) systemContext(reg index.RegistryOptions) (*types.SystemContext, error) {
	tmp := ""
	if r.store != nil {
		tmp = r.store.RunRoot()
	}
	sys, err := index.SystemContext(reg, tmp)
	if err != nil {
		return nil, err
	}
	if r.graphRoot != "" {
		sys.BlobInfoCacheDir = filepath.Join(r.graphRoot, "cache")
	}
	return sys, nil
}

// imageArgument is the help text of the IMAGE argument of inspect and verify.
const imageArgument = "IMAGE is docker://REG/REPO:TAG, oci:DIR[:TAG], oci-archive:FILE[:TAG],\n" +
	"containers-storage:NAME, or a bare name (local storage if it holds it, else its registry)."

// openImage resolves the one IMAGE argument of inspect and verify: it
// opens local storage when the name may live there, parses the reference
// (a bad one is a usage error) and returns it with its system context.
// Call closeImage when done.
func openImage(g *globalOptions, name string, reg index.RegistryOptions) (ref types.ImageReference, sys *types.SystemContext, closeImage func(), err error) {
	r, err := newResolver(g, name)
	if err != nil {
		return nil, nil, nil, err
	}
	if ref, err = index.ParseReference(name, r.store); err != nil {
		r.close()
		return nil, nil, nil, cli.Exit(err.Error(), 125)
	}
	if sys, err = r.systemContext(reg); err != nil {
		r.close()
		return nil, nil, nil, err
	}
	return ref, sys, r.close, nil
}

// close releases local storage if it was opened.
func (r *resolver) close() {
	if r.store != nil {
		_, _ = r.store.Shutdown(false)
	}
}
