package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// okToEverything is a registry that lies: it answers 200 and "{}" to
// every request (HEAD included, with its Content-Length), with no
// Docker-Content-Digest, and stores nothing.
var okToEverything = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("{}"))
})

// byTag matches a manifest request by tag (not by digest).
var byTag = regexp.MustCompile(`^/v2/.+/manifests/[^:]+$`)

// wrongTagProxy forwards to the real test registry but serves, for every
// manifest asked for by tag, busybox:amd64's: pushes by digest land, the
// tag reads back as another image.
func wrongTagProxy() http.Handler {
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: env.Registry})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && byTag.MatchString(r.URL.Path) {
			r.URL.Path = "/v2/busybox/manifests/amd64"
		}
		rp.ServeHTTP(w, r)
	})
}

// TestPushReadBack pushes with copy, build --push and index push to a
// registry answering 200 to everything and to a proxy serving another
// manifest for the tag: each fails naming the registry and the image;
// the same pushes to the real registry succeed and skopeo reads them.
func TestPushReadBack(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nCOPY Containerfile /\n", nil)
	mustSucceed(t, polyarch(t, s, "index", "create", "localhost/readback:1", "docker://"+registryBase("3arch"), "--tls-verify=false"))
	liar := httptest.NewServer(okToEverything)
	defer liar.Close()
	proxy := httptest.NewServer(wrongTagProxy())
	defer proxy.Close()
	pushes := []struct {
		name string
		args func(repo string) []string
	}{
		{"copy", func(repo string) []string {
			return []string{"copy", "--tls-verify=false", fixtureIndex(), "docker://" + repo}
		}},
		{"build --push", func(repo string) []string {
			return []string{"build", "--tls-verify=false", "--retry", "0", "--platform", "linux/amd64,linux/arm64", "-t", repo, "--push", ctxDir}
		}},
		{"index push", func(repo string) []string {
			return []string{"index", "push", "--tls-verify=false", "localhost/readback:1", "docker://" + repo}
		}},
	}
	for _, push := range pushes {
		name, args := push.name, push.args
		for _, reg := range []struct {
			kind, host string
			lies       bool
		}{
			{"200 to everything", liar.Listener.Addr().String(), true},
			{"wrong tag", proxy.Listener.Addr().String(), true},
			{"real registry", env.Registry, false},
		} {
			t.Run(name+"/"+reg.kind, func(t *testing.T) {
				repo := reg.host + "/readback/" + strings.ReplaceAll(name, " ", "-") + ":v1"
				r := polyarch(t, s, args(repo)...)
				if !reg.lies {
					mustSucceed(t, r)
					skopeoRaw(t, "docker://"+repo)
					return
				}
				if r.Code == 0 || !strings.Contains(r.Stderr, "the registry "+reg.host+" did not store what was pushed") || !strings.Contains(r.Stderr, "readback/") {
					t.Errorf("push to a registry that lies (%s): exit %d, stderr %q; want a failure naming %s, the image and \"did not store what was pushed\"", reg.kind, r.Code, r.Stderr, reg.host)
				}
			})
		}
	}
}
