package builder

import (
	"context"
	"fmt"

	"github.com/polyarch/polyarch/verify"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// verifyResult checks the assembled, still untagged result with package
// verify when o.Verify is set: every entry's platform against its config
// and the ELF files of its layers. The report goes to o.Stderr unless
// quiet; a mismatch is an error wrapping verify.ErrMismatch, returned
// before anything is tagged, written or pushed.
func verifyResult(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, res *Result, tags []string) error {
	if !o.Verify {
		return nil
	}
	name := res.ID
	if len(tags) > 0 {
		name = tags[0]
	}
	ref, err := is.Transport.NewStoreReference(store, nil, res.ID)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", name, err)
	}
	rep, err := verify.Image(ctx, ref, sys, verify.Options{Name: name})
	if err != nil {
		return err
	}
	if w := reportWriter(o); w != nil {
		if err := rep.WriteTable(w); err != nil {
			return err
		}
	}
	if err := rep.Err(); err != nil {
		return fmt.Errorf("%w\nnothing was tagged, written or pushed", err)
	}
	return nil
}
