package index

import "golang.org/x/sync/errgroup"

// manifestReads is how many manifests are read from one source at once:
// a registry answers each in about one round trip, and a source's
// manifests are at most MaxDocumentSize each.
const manifestReads = 4

// eachInParallel runs f(0) ... f(n-1), at most limit at a time, and
// returns the error of the lowest i that failed, as a loop stopping at
// the first error would (later calls may have run too).
func eachInParallel(n, limit int, f func(i int) error) error {
	if n <= 1 || limit <= 1 {
		for i := range n {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var g errgroup.Group
	g.SetLimit(limit)
	for i := range n {
		g.Go(func() error { errs[i] = f(i); return nil })
	}
	_ = g.Wait() // the calls' errors are in errs, by index
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
