package index

import (
	"context"
	"fmt"

	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// PolicyRejectedError says the signature policy does not allow an image
// of a copy's source, as containers/image's copy refuses it.
type PolicyRejectedError struct {
	// Image names the source; Instance the child refused ("" for the
	// top-level manifest).
	Image, Instance string
	// Policy is the policy file read.
	Policy string
	Err    error
}

// Error names the image, the policy and what to do.
func (e *PolicyRejectedError) Error() string {
	what := e.Image
	if e.Instance != "" {
		what += " (instance " + e.Instance + ")"
	}
	return fmt.Sprintf("%s is not allowed by the signature policy %s: %v; sign the source, or copy with --signature-policy naming a policy that accepts it",
		what, e.Policy, e.Err)
}

// Unwrap returns the policy's own error.
func (e *PolicyRejectedError) Unwrap() error { return e.Err }

// checkPolicy applies the signature policy of sys to what t reads: the
// top-level manifest and each child, as containers/image's copy does
// for every image it reads, so that the byte-for-byte paths accept no
// more than it.
func (t *transfer) checkPolicy(ctx context.Context, sys *types.SystemContext, name string) error {
	pc, err := policyContext(sys)
	if err != nil {
		return err
	}
	defer func() { _ = pc.Destroy() }()
	policyFile := policyName(sys)
	if err := allowed(ctx, pc, image.UnparsedInstance(t.source, nil)); err != nil {
		return &PolicyRejectedError{Image: name, Policy: policyFile, Err: err}
	}
	for _, c := range t.children {
		d := c.digest
		if err := allowed(ctx, pc, image.UnparsedInstance(t.source, &d)); err != nil {
			return &PolicyRejectedError{Image: name, Instance: d.String(), Policy: policyFile, Err: err}
		}
	}
	return nil
}

// allowed asks the policy about one image.
func allowed(ctx context.Context, pc *signature.PolicyContext, img types.UnparsedImage) error {
	ok, err := pc.IsRunningImageAllowed(ctx, img)
	if err == nil && !ok {
		err = fmt.Errorf("rejected")
	}
	return err
}

// policyName returns the policy file sys names, for messages.
func policyName(sys *types.SystemContext) string {
	if sys != nil && sys.SignaturePolicyPath != "" {
		return sys.SignaturePolicyPath
	}
	return "/etc/containers/policy.json"
}
