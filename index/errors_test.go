package index

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/docker/distribution/registry/api/errcode"
	v2 "github.com/docker/distribution/registry/api/v2"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/storage"
)

func TestExplain(t *testing.T) {
	const ref = "docker://reg.example:5000/team/app:1"
	wrap := func(err error) error { return fmt.Errorf("copying image 1/3: %w", err) }
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	unknownCA := &url.Error{Op: "Get", URL: "https://reg.example:5000/v2/", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}
	for _, tc := range []struct {
		name     string
		err      error
		ref      string
		want     []string
		unwanted string
	}{
		{name: "refused credentials", err: wrap(docker.ErrUnauthorizedForCredentials{Err: errors.New("401")}), want: []string{"authentication required for reg.example:5000", "polyarch login reg.example:5000"}},
		{name: "401 errcode", err: wrap(errcode.ErrorCodeUnauthorized.WithMessage("authentication required")), want: []string{"authentication required for reg.example:5000"}},
		{name: "403 errcode in a list", err: wrap(errcode.Errors{errcode.ErrorCodeDenied.WithMessage("denied")}), want: []string{"polyarch login reg.example:5000"}},
		{name: "403 status", err: wrap(docker.UnexpectedHTTPStatusError{StatusCode: 403}), want: []string{"authentication required"}},
		{name: "bare reference", err: docker.ErrUnauthorizedForCredentials{Err: errors.New("401")}, ref: "quay.io/team/app:1", want: []string{"polyarch login quay.io"}},
		{name: "manifest unknown", err: wrap(v2.ErrorCodeManifestUnknown.WithMessage("manifest unknown")), want: []string{"image " + ref + " not found"}},
		{name: "name unknown", err: wrap(errcode.Errors{v2.ErrorCodeNameUnknown}), want: []string{"not found"}},
		{name: "404 status", err: wrap(docker.UnexpectedHTTPStatusError{StatusCode: 404}), want: []string{"not found"}},
		{name: "layout tag missing", err: wrap(layout.ImageNotFoundError{}), ref: "oci:/tmp/x:v9", want: []string{"image oci:/tmp/x:v9 not found"}},
		{name: "not in local storage", err: wrap(storage.ErrImageUnknown), ref: "containers-storage:app:1", want: []string{"not found"}},
		{name: "plain http", err: wrap(errors.New(`Get "https://reg.example:5000/v2/": http: server gave HTTP response to HTTPS client`)),
			want: []string{"reg.example:5000 answered in plain http", "--tls-verify=false"}, unwanted: "server gave HTTP response"},
		{name: "unknown CA", err: wrap(unknownCA), want: []string{"unknown authority", "--cert-dir"}},
		{name: "unknown CA, text only", err: errors.New("x509: certificate signed by unknown authority"), want: []string{"--cert-dir"}},
		{name: "wrong host name", err: wrap(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "reg.example"}), want: []string{"not valid for that name"}},
		{name: "rate limited", err: wrap(docker.ErrTooManyRequests), want: []string{"--retry"}},
		{name: "unknown host", err: wrap(&net.DNSError{Err: "no such host", Name: "reg.example"}), want: []string{"cannot resolve the registry of " + ref}},
		{name: "connection refused", err: wrap(refused), want: []string{"cannot connect to reg.example:5000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.ref
			if r == "" {
				r = ref
			}
			got := Explain(tc.err, r)
			var ex *ExplainedError
			if !errors.As(got, &ex) || !errors.Is(got, tc.err) {
				t.Fatalf("Explain(%v) = %v: want an ExplainedError wrapping the original", tc.err, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			if tc.unwanted != "" && strings.Contains(got.Error(), tc.unwanted) {
				t.Errorf("%q repeats %q", got, tc.unwanted)
			}
			if again := Explain(fmt.Errorf("outer: %w", got), r); again.Error() != "outer: "+got.Error() {
				t.Errorf("explained twice: %q", again)
			}
		})
	}
}

func TestExplainLeavesOthers(t *testing.T) {
	for _, err := range []error{nil, context.Canceled, fmt.Errorf("copying: %w", context.Canceled), errors.New("disk full")} {
		if got := Explain(err, "docker://reg.example/app:1"); got != err {
			t.Errorf("Explain(%v) = %v, want it unchanged", err, got)
		}
	}
}

func TestRegistryOf(t *testing.T) {
	for ref, want := range map[string]string{
		"docker://quay.io/team/app:1": "quay.io",
		"127.0.0.1:5000/app:1":        "127.0.0.1:5000",
		"127.0.0.1:5000":              "127.0.0.1:5000",
		"localhost:5000":              "localhost:5000",
		"localhost":                   "localhost",
		"busybox":                     "docker.io",
		"busybox:1":                   "docker.io",
		"oci:/tmp/layout:v1":          "",
		"containers-storage:app:1":    "",
	} {
		if got := registryOf(ref); got != want {
			t.Errorf("registryOf(%q) = %q, want %q", ref, got, want)
		}
	}
}
