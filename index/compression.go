package index

import (
	"fmt"

	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/types"
)

// Compression formats accepted by Compression.Format, as podman and
// skopeo spell them.
const (
	// Gzip is the default: every registry and runtime reads it.
	Gzip = "gzip"
	// Zstd is smaller and faster to decompress; needs OCI manifests.
	Zstd = "zstd"
	// ZstdChunked is zstd with a table of contents for partial pulls.
	ZstdChunked = "zstd:chunked"
)

// Compression says how layers are compressed when polyarch writes them
// anew. The zero value compresses uncompressed layers (those of local
// storage) with gzip at its default level and keeps compressed blobs as
// they are; a Format recompresses every layer not already in it.
type Compression struct {
	// Format is Gzip, Zstd or ZstdChunked.
	Format string
	// Level is the compression level (gzip 0-9, zstd 1-22); nil is the
	// format's default.
	Level *int
}

// Validate checks the format and the level against each other; its
// errors name the flags (--compression-format, --compression-level).
func (c Compression) Validate() error {
	format := c.Format
	switch format {
	case "":
		format = Gzip
	case Gzip, Zstd, ZstdChunked:
	default:
		return fmt.Errorf("invalid --compression-format %q: use gzip, zstd or zstd:chunked", c.Format)
	}
	if c.Level == nil {
		return nil
	}
	lo, hi := 1, 22
	if format == Gzip {
		lo, hi = 0, 9
	}
	if *c.Level < lo || *c.Level > hi {
		return fmt.Errorf("invalid --compression-level %d for %s: use %d to %d", *c.Level, format, lo, hi)
	}
	return nil
}

// checkFormat refuses zstd layers in Docker schema 2 manifests (manifest
// format v2s2), which cannot describe them.
func (c Compression) checkFormat(format string) error {
	if format == FormatV2S2 && (c.Format == Zstd || c.Format == ZstdChunked) {
		return fmt.Errorf("--compression-format %s needs OCI manifests: drop --format v2s2, or use --compression-format gzip", c.Format)
	}
	return nil
}

// apply returns a copy of sys asking containers/image for c when it
// compresses a layer; with force, the dir: transport (staging)
// compresses too. An empty Format compresses uncompressed layers with
// gzip (containers/image's default) and keeps compressed ones as they are.
func (c Compression) apply(sys *types.SystemContext, force bool) (*types.SystemContext, error) {
	out := types.SystemContext{}
	if sys != nil {
		out = *sys
	}
	out.DirForceCompress = force
	out.CompressionLevel = c.Level
	if c.Format == "" {
		return &out, nil
	}
	algo, err := compression.AlgorithmByName(c.Format)
	if err != nil {
		return nil, fmt.Errorf("compression format %q: %w", c.Format, err)
	}
	out.CompressionFormat, out.CompressionLevel = &algo, c.Level
	return &out, nil
}
