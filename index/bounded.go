package index

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/types"
)

// DefaultMaxLayerSize is the largest uncompressed size of a gzip layer
// unpacked into local storage unless told otherwise: 64 GiB.
const DefaultMaxLayerSize int64 = 64 << 30

// LayerTooLargeError is a gzip layer inflating past the cap.
type LayerTooLargeError struct {
	Image  string
	Digest digest.Digest
	Max    int64
}

// Error names the layer, the cap and the flag.
func (e *LayerTooLargeError) Error() string {
	return fmt.Sprintf("%s: layer %s inflates past %d bytes: refusing it (raise --max-layer-size if it is genuine)", e.Image, e.Digest, e.Max)
}

// boundedRef is a source reference whose gzip blobs fail with a
// LayerTooLargeError once they inflate past max bytes. The check
// decompresses each gzip stream once more as it passes; what reads the
// stream (containers/image writing local storage) fails and removes its
// temporary files.
type boundedRef struct {
	types.ImageReference
	max int64
}

// NewImageSource returns the bounded source.
func (r boundedRef) NewImageSource(ctx context.Context, sys *types.SystemContext) (types.ImageSource, error) {
	src, err := r.ImageReference.NewImageSource(ctx, sys)
	if err != nil {
		return nil, err
	}
	return &boundedSource{ImageSource: src, max: r.max, name: refName(r.ImageReference)}, nil
}

// boundedSource wraps GetBlob with an inflation check.
type boundedSource struct {
	types.ImageSource
	max  int64
	name string
}

// GetBlob returns the blob, checked as it is read if it is gzip.
func (s *boundedSource) GetBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, int64, error) {
	rc, size, err := s.ImageSource.GetBlob(ctx, info, cache)
	if err != nil {
		return nil, 0, err
	}
	br := bufio.NewReader(rc)
	if magic, _ := br.Peek(2); len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return readCloser{br, rc}, size, nil
	}
	return newInflateCheck(br, rc, &LayerTooLargeError{Image: s.name, Digest: info.Digest, Max: s.max}), size, nil
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// inflateCheck passes a gzip stream through while a goroutine inflates a
// copy of it, counting; past the cap, reads fail with tooLarge.
type inflateCheck struct {
	src      io.Reader
	closer   io.Closer
	pw       *io.PipeWriter
	done     chan error
	tooLarge *LayerTooLargeError
}

// newInflateCheck starts the counting goroutine.
func newInflateCheck(src io.Reader, closer io.Closer, tooLarge *LayerTooLargeError) *inflateCheck {
	pr, pw := io.Pipe()
	c := &inflateCheck{src: src, closer: closer, pw: pw, done: make(chan error, 1), tooLarge: tooLarge}
	go func() {
		err := countInflated(pr, tooLarge)
		if err != nil {
			pr.CloseWithError(err)
		} else {
			_, _ = io.Copy(io.Discard, pr)
		}
		c.done <- err
	}()
	return c
}

// countInflated inflates r, returning tooLarge past its cap; a stream
// gzip cannot read is not its business (the consumer reports it).
func countInflated(r io.Reader, tooLarge *LayerTooLargeError) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil
	}
	n, _ := io.Copy(io.Discard, io.LimitReader(zr, tooLarge.Max+1))
	if n > tooLarge.Max {
		return tooLarge
	}
	return nil
}

// Read passes data on after the counter has seen it.
func (c *inflateCheck) Read(p []byte) (int, error) {
	n, err := c.src.Read(p)
	if n > 0 {
		if _, werr := c.pw.Write(p[:n]); werr != nil {
			return 0, c.limitErr(werr)
		}
	}
	if errors.Is(err, io.EOF) {
		c.pw.Close()
		if cerr := <-c.done; cerr != nil {
			c.done <- cerr
			return 0, cerr
		}
		c.done <- nil
	}
	return n, err
}

// limitErr returns tooLarge if the counter stopped for it.
func (c *inflateCheck) limitErr(err error) error {
	var tl *LayerTooLargeError
	if errors.As(err, &tl) {
		return tl
	}
	return err
}

// Close stops the counter and closes the blob.
func (c *inflateCheck) Close() error {
	c.pw.CloseWithError(io.ErrClosedPipe)
	return c.closer.Close()
}
