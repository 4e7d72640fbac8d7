package index

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/docker/distribution/registry/api/errcode"
	v2 "github.com/docker/distribution/registry/api/v2"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/storage"
)

// ExplainedError is a registry or transport failure whose cause is known:
// it says what went wrong and what to do next, and unwraps to the
// original error.
type ExplainedError struct {
	// Problem says what went wrong, naming the registry or image.
	Problem string
	// Hint is the next step for the user.
	Hint string
	// Err is the original error.
	Err error
	// restates is true when Problem says all that Err says, so the
	// message leaves Err's text out.
	restates bool
}

// Error returns "problem (hint): cause".
func (e *ExplainedError) Error() string {
	if e.restates {
		return fmt.Sprintf("%s (%s)", e.Problem, e.Hint)
	}
	return fmt.Sprintf("%s (%s): %v", e.Problem, e.Hint, e.Err)
}

// Unwrap returns the original error.
func (e *ExplainedError) Unwrap() error { return e.Err }

// Explain turns a failure to read or write the image ref (as the user
// wrote it: docker://host/repo:tag, host/repo:tag, oci:DIR:TAG…) into an
// ExplainedError when its cause is known: missing or refused credentials,
// an unknown image, a plain-http registry, an untrusted certificate, rate
// limiting, a registry that does not answer. Other errors are returned as
// they are. Explain never adds credentials to a message.
func Explain(err error, ref string) error {
	var done *ExplainedError
	var notStored *NotStoredError
	if err == nil || errors.As(err, &done) || errors.As(err, &notStored) || errors.Is(err, context.Canceled) {
		return err
	}
	reg := registryOf(ref)
	for _, rule := range explainRules {
		if rule.match(err) {
			return rule.explain(err, ref, reg)
		}
	}
	return err
}

// explainRule maps one known cause to its explanation.
type explainRule struct {
	match   func(error) bool
	explain func(err error, ref, reg string) error
}

// explainRules are tried in order; typed checks come first inside each
// matcher, message matching only as a fallback.
var explainRules = []explainRule{
	{isSigstoreDisabled, explainSigstoreDisabled},
	{isAuthError, func(err error, ref, reg string) error {
		if reg == "" {
			return &ExplainedError{Problem: "access denied to " + ref, Hint: "check the credentials and permissions for it", Err: err}
		}
		return &ExplainedError{Problem: "authentication required for " + reg, Hint: "try `polyarch login " + reg + "`", Err: err}
	}},
	{isNotFound, func(err error, ref, reg string) error {
		return &ExplainedError{Problem: "image " + ref + " not found", Hint: "check the repository and tag, or list what the registry has", Err: err}
	}},
	{isPlainHTTP, func(err error, ref, reg string) error {
		return &ExplainedError{Problem: orRef(reg, ref) + " answered in plain http, not https", Hint: "pass --tls-verify=false to allow an http registry", Err: err, restates: true}
	}},
	{isUnknownAuthority, func(err error, ref, reg string) error {
		return &ExplainedError{Problem: "the certificate of " + orRef(reg, ref) + " is signed by an unknown authority", Hint: "pass --cert-dir DIR, DIR holding the CA as ca.crt, or --tls-verify=false", Err: err}
	}},
	{isHostnameMismatch, func(err error, ref, reg string) error {
		return &ExplainedError{Problem: "the certificate of " + orRef(reg, ref) + " is not valid for that name", Hint: "use the name or address the certificate was made for, or --tls-verify=false", Err: err}
	}},
	{func(err error) bool { return errors.Is(err, docker.ErrTooManyRequests) }, func(err error, ref, reg string) error {
		return &ExplainedError{Problem: orRef(reg, ref) + " refused more requests for now", Hint: "try again later, or pass --retry N", Err: err}
	}},
	{isUnresolved, func(err error, ref, reg string) error {
		return &ExplainedError{Problem: "cannot resolve the registry of " + ref, Hint: "check its name; a bare NAME is looked up in local storage first, then in its registry", Err: err}
	}},
	{func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }, func(err error, ref, reg string) error {
		return &ExplainedError{Problem: "cannot connect to " + orRef(reg, ref), Hint: "check that the registry runs at that address, or pass --retry N", Err: err}
	}},
}

// isAuthError reports a 401 or 403 answer, or refused credentials.
func isAuthError(err error) bool {
	if err == nil {
		return false
	}
	var creds docker.ErrUnauthorizedForCredentials
	if errors.As(err, &creds) {
		return true
	}
	if code, ok := errorCode(err); ok {
		return code == errcode.ErrorCodeUnauthorized || code == errcode.ErrorCodeDenied
	}
	var status docker.UnexpectedHTTPStatusError
	if errors.As(err, &status) {
		return status.StatusCode == 401 || status.StatusCode == 403
	}
	return containsAny(err.Error(), "401 Unauthorized", "403 Forbidden", "authentication required", "requested access to the resource is denied")
}

// isNotFound reports an image, repository or manifest the source lacks;
// false for a nil error, as for every matcher here.
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var missing layout.ImageNotFoundError
	if errors.As(err, &missing) || errors.Is(err, storage.ErrImageUnknown) || errors.Is(err, storage.ErrNotAnImage) {
		return true
	}
	if code, ok := errorCode(err); ok {
		return code == v2.ErrorCodeManifestUnknown || code == v2.ErrorCodeNameUnknown
	}
	var status docker.UnexpectedHTTPStatusError
	if errors.As(err, &status) {
		return status.StatusCode == 404
	}
	return containsAny(err.Error(), "manifest unknown", "name unknown", "repository name not known")
}

// isPlainHTTP reports an https request answered in plain http. net/http
// has no typed error for it: its message is the only evidence.
func isPlainHTTP(err error) bool {
	if err == nil {
		return false
	}
	return strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// isUnknownAuthority reports a certificate chain the client cannot verify.
func isUnknownAuthority(err error) bool {
	if err == nil {
		return false
	}
	var unknown x509.UnknownAuthorityError
	return errors.As(err, &unknown) || strings.Contains(err.Error(), "certificate signed by unknown authority")
}

// isHostnameMismatch reports a certificate made for another name.
func isHostnameMismatch(err error) bool {
	var host x509.HostnameError
	return errors.As(err, &host)
}

// isUnresolved reports a registry host name that does not resolve.
func isUnresolved(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// errorCode returns the distribution error code carried by err, looking
// into errcode.Errors lists, which errors.As cannot enter.
func errorCode(err error) (errcode.ErrorCode, bool) {
	var list errcode.Errors
	if errors.As(err, &list) && len(list) > 0 {
		return errorCode(list[0])
	}
	var coder errcode.ErrorCoder
	if errors.As(err, &coder) {
		return coder.ErrorCode(), true
	}
	return 0, false
}

// registryOf returns the registry host of a docker reference, with or
// without the docker:// prefix, or of a bare HOST[:PORT]; "" for other
// transports.
func registryOf(ref string) string {
	name, prefixed := strings.CutPrefix(ref, "docker://")
	if !prefixed && HasTransport(ref) {
		return ""
	}
	if !strings.Contains(name, "/") {
		host, port, _ := strings.Cut(name, ":")
		if (strings.Contains(host, ".") || host == "localhost") && strings.Trim(port, "0123456789") == "" {
			return name
		}
	}
	if named, err := reference.ParseNormalizedNamed(name); err == nil {
		return reference.Domain(named)
	}
	return ""
}

// orRef returns reg, or ref when there is no registry.
func orRef(reg, ref string) string {
	if reg != "" {
		return reg
	}
	return ref
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
