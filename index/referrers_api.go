package index

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/pkg/tlsclientconfig"
	"go.podman.io/image/v5/types"
)

// maxReferrersList caps a referrers list read from a registry.
const maxReferrersList = 4 << 20

// listReferrers returns the referrers of subject in repo: from the
// registry's referrers API (viaAPI) when it has one, else from the
// subject's referrers tag (empty when the tag does not exist).
func listReferrers(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject digest.Digest) (list specs.Index, viaAPI bool, err error) {
	list, found, err := referrersAPI(ctx, sys, repo, subject)
	if err != nil || found {
		return list, found, err
	}
	list, err = readReferrersTag(ctx, sys, repo, subject)
	return list, false, err
}

// referrersAPI asks repo's registry for GET /v2/<repo>/referrers/<subject>
// with the credentials and TLS settings containers/image uses; found is
// false when the registry has no such endpoint (404 or another
// non-index answer), as registries before OCI distribution 1.1.
func referrersAPI(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject digest.Digest) (list specs.Index, found bool, err error) {
	rt, repoName, err := registryTransport(ctx, sys, repo)
	if err != nil {
		return list, false, err
	}
	return referrersAPIWith(ctx, rt, repoName, repo, subject)
}

// referrersOf lists the referrers of each of subjects in repo through
// one connection, by what the registry offers: the referrers API (one
// call per subject) when it has one, else the subjects' referrers tags.
// Without the API, the repository's tag list is read once and only the
// referrers tags it holds are read, so that a repository without
// referrers costs two requests whatever the number of subjects; a
// registry that does not list tags has each subject's tag read. The
// map holds every subject, empty lists included.
func referrersOf(ctx context.Context, sys *types.SystemContext, repo reference.Named, subjects []digest.Digest) (map[digest.Digest]specs.Index, bool, error) {
	return referrersThrough(ctx, dialRegistry(ctx, sys, repo), repo, subjects)
}

// referrersThrough is referrersOf through conn, a connection to repo's
// registry.
func referrersThrough(ctx context.Context, conn *registryConn, repo reference.Named, subjects []digest.Digest) (_ map[digest.Digest]specs.Index, viaAPI bool, _ error) {
	out := map[digest.Digest]specs.Index{}
	if len(subjects) == 0 {
		return out, false, nil
	}
	rt, repoName, err := conn.get()
	if err != nil {
		return nil, false, err
	}
	list, found, err := referrersAPIWith(ctx, rt, repoName, repo, subjects[0])
	if err != nil {
		return nil, false, err
	}
	if found {
		out[subjects[0]] = list
		for _, s := range subjects[1:] {
			if out[s], _, err = referrersAPIWith(ctx, rt, repoName, repo, s); err != nil {
				return nil, false, err
			}
		}
		return out, true, nil
	}
	tags, err := listTags(ctx, rt, repoName)
	if err != nil {
		return nil, false, err
	}
	for _, s := range subjects {
		if tags != nil && !tags[ReferrersTag(s)] {
			out[s] = emptyReferrers()
			continue
		}
		if out[s], err = readReferrersTagWith(ctx, rt, repoName, repo, s); err != nil {
			return nil, false, err
		}
	}
	return out, false, nil
}

// registryURL returns the URL of path (starting with /v2/<repo>/) in
// repoName's registry.
func registryURL(repoName name.Repository, path string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s", repoName.Registry.Scheme(), repoName.RegistryStr(), repoName.RepositoryStr(), path)
}

// maxTagPages caps the pages of a tag list read (each at most
// maxReferrersList bytes).
const maxTagPages = 64

// listTags returns the tags of repoName, following the registry's
// pagination (Link headers); nil, without error, when the registry does
// not list them (any answer but 200), so that the caller reads each
// referrers tag instead.
func listTags(ctx context.Context, rt http.RoundTripper, repoName name.Repository) (map[string]bool, error) {
	tags := map[string]bool{}
	next := registryURL(repoName, "tags/list")
	for page := 0; next != ""; page++ {
		if page == maxTagPages {
			return nil, nil // too many to be worth it: read each tag
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		resp, err := (&http.Client{Transport: rt}).Do(req)
		if err != nil {
			return nil, fmt.Errorf("listing the tags of %s: %w", repoName.Name(), err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxReferrersList+1))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) > maxReferrersList {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listing the tags of %s: %w", repoName.Name(), err)
		}
		var list struct {
			Tags []string `json:"tags"`
		}
		if json.Unmarshal(body, &list) != nil {
			return nil, nil
		}
		for _, t := range list.Tags {
			tags[t] = true
		}
		if next, err = nextPage(req.URL, resp.Header.Get("Link")); err != nil {
			return nil, nil
		}
	}
	return tags, nil
}

// nextPage returns the URL of a Link header's rel="next" target,
// resolved against the request's URL; "" when there is none.
func nextPage(base *url.URL, link string) (string, error) {
	if link == "" {
		return "", nil
	}
	target, params, _ := strings.Cut(link, ";")
	if !strings.Contains(params, `rel="next"`) {
		return "", nil
	}
	u, err := base.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// readReferrersTagWith is readReferrersTag through rt, an authenticated
// transport to repo's registry: a missing tag, or one holding something
// else than an OCI index, is an empty list.
func readReferrersTagWith(ctx context.Context, rt http.RoundTripper, repoName name.Repository, repo reference.Named, subject digest.Digest) (specs.Index, error) {
	list := emptyReferrers()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, registryURL(repoName, "manifests/"+ReferrersTag(subject)), nil)
	if err != nil {
		return list, err
	}
	req.Header.Set("Accept", strings.Join(manifest.DefaultRequestedManifestMIMETypes, ", "))
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return list, fmt.Errorf("reading the referrers tag of %s in %s: %w", subject, repo.Name(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return list, nil
	}
	if resp.StatusCode != http.StatusOK {
		return list, fmt.Errorf("reading the referrers tag of %s in %s: %s", subject, repo.Name(), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReferrersList+1))
	if err != nil {
		return list, err
	}
	if len(body) > maxReferrersList {
		return list, fmt.Errorf("the referrers tag of %s in %s is over %d bytes", subject, repo.Name(), maxReferrersList)
	}
	return parseReferrersTag(body, repo.Name()+":"+ReferrersTag(subject))
}

// referrersAPIWith is referrersAPI through rt, an authenticated
// transport to repo's registry.
func referrersAPIWith(ctx context.Context, rt http.RoundTripper, repoName name.Repository, repo reference.Named, subject digest.Digest) (list specs.Index, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, registryURL(repoName, "referrers/"+subject.String()), nil)
	if err != nil {
		return list, false, err
	}
	req.Header.Set("Accept", specs.MediaTypeImageIndex)
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return list, false, fmt.Errorf("asking %s for the referrers of %s: %w", repoName.RegistryStr(), subject, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != specs.MediaTypeImageIndex {
		return list, false, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReferrersList+1))
	if err != nil {
		return list, false, err
	}
	if len(body) > maxReferrersList {
		return list, false, fmt.Errorf("the referrers list of %s in %s is over %d bytes", subject, repo.Name(), maxReferrersList)
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return list, false, fmt.Errorf("parsing the referrers list of %s in %s: %w", subject, repo.Name(), err)
	}
	return list, true, nil
}

// registryConn is an authenticated transport to a repository's
// registry, set up in the background (see dialRegistry).
type registryConn struct {
	done     chan struct{}
	rt       http.RoundTripper
	repoName name.Repository
	err      error
}

// dialRegistry starts setting up the transport registryTransport
// returns for repo (reading credentials and pinging the registry), so
// that its round trips overlap other work until get is called.
func dialRegistry(ctx context.Context, sys *types.SystemContext, repo reference.Named) *registryConn {
	c := &registryConn{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.rt, c.repoName, c.err = registryTransport(ctx, sys, repo)
	}()
	return c
}

// get waits for the transport.
func (c *registryConn) get() (http.RoundTripper, name.Repository, error) {
	<-c.done
	return c.rt, c.repoName, c.err
}

// registryTransport returns an http.RoundTripper authenticated for pulls
// from repo with the credentials containers/image would use (auth files,
// --creds), allowing plain http and unverified certificates where
// --tls-verify=false or registries.conf says the registry is insecure.
func registryTransport(ctx context.Context, sys *types.SystemContext, repo reference.Named) (http.RoundTripper, name.Repository, error) {
	insecure := sys != nil && sys.DockerInsecureSkipTLSVerify == types.OptionalBoolTrue
	if r, err := sysregistriesv2.FindRegistry(sys, repo.Name()); err == nil && r != nil && r.Insecure {
		insecure = true
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	repoName, err := name.NewRepository(repo.Name(), opts...)
	if err != nil {
		return nil, repoName, err
	}
	creds, err := config.GetCredentials(sys, reference.Domain(repo))
	if err != nil {
		return nil, repoName, fmt.Errorf("reading the credentials for %s: %w", reference.Domain(repo), err)
	}
	auth := authn.Anonymous
	if creds.Username != "" || creds.Password != "" || creds.IdentityToken != "" {
		auth = authn.FromConfig(authn.AuthConfig{Username: creds.Username, Password: creds.Password, IdentityToken: creds.IdentityToken})
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // only when the user asked for it
	if err := tlsclientconfig.SetupCertificates(certDir(sys, reference.Domain(repo)), base.TLSClientConfig); err != nil {
		return nil, repoName, fmt.Errorf("reading the certificates for %s: %w", reference.Domain(repo), err)
	}
	rt, err := transport.NewWithContext(ctx, repoName.Registry, auth, base, []string{repoName.Scope(transport.PullScope)})
	if err != nil {
		return nil, repoName, fmt.Errorf("connecting to %s: %w", repoName.RegistryStr(), err)
	}
	return rt, repoName, nil
}

// certDir returns the directory of CA certificates and client keys for
// host, as containers/image looks for it: --cert-dir, else the per-host
// directory of the system context, else the first of
// ~/.config/containers/certs.d/HOST, /etc/containers/certs.d/HOST and
// /etc/docker/certs.d/HOST that exists; "" for none.
func certDir(sys *types.SystemContext, host string) string {
	if sys != nil && sys.DockerCertPath != "" {
		return sys.DockerCertPath
	}
	if sys != nil && sys.DockerPerHostCertDirPath != "" {
		return filepath.Join(sys.DockerPerHostCertDirPath, host)
	}
	var roots []string
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(home, ".config", "containers", "certs.d"))
	}
	for _, root := range append(roots, "/etc/containers/certs.d", "/etc/docker/certs.d") {
		if st, err := os.Stat(filepath.Join(root, host)); err == nil && st.IsDir() {
			return filepath.Join(root, host)
		}
	}
	return ""
}
