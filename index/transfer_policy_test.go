package index

import (
	"errors"
	"strings"
	"testing"
)

// TestPolicyRejectedError checks the refusal names the image, the child
// refused, the policy file and the fix, and unwraps to the policy's error.
func TestPolicyRejectedError(t *testing.T) {
	cause := errors.New("Running image oci:/l:x is rejected by policy.")
	for _, tc := range []struct {
		err  *PolicyRejectedError
		want []string
	}{
		{&PolicyRejectedError{Image: "oci:/l:x", Policy: "/p.json", Err: cause}, []string{"oci:/l:x is not allowed", "/p.json", "--signature-policy"}},
		{&PolicyRejectedError{Image: "oci:/l:x", Instance: "sha256:ab", Policy: "/p.json", Err: cause}, []string{"(instance sha256:ab)", "rejected by policy"}},
	} {
		msg := tc.err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q lacks %q", msg, w)
			}
		}
		if !errors.Is(tc.err, cause) {
			t.Errorf("%q does not unwrap to the policy's error", msg)
		}
	}
}
