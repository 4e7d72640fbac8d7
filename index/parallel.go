package index

import "sync"

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
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
