package e2e

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// recordingProxy forwards to a registry, records each request, and can
// run a hook after a response.
type recordingProxy struct {
	mu       sync.Mutex
	target   string
	requests []string
	after    func(method, path string, status int)
}

func (p *recordingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	target := p.target
	p.requests = append(p.requests, r.Method+" "+r.URL.Path)
	p.mu.Unlock()
	u, _ := url.Parse("http://" + target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if p.after != nil {
			p.after(r.Method, r.URL.Path, resp.StatusCode)
		}
		return nil
	}
	rp.ServeHTTP(w, r)
}

// take returns and clears the recorded requests.
func (p *recordingProxy) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.requests
	p.requests = nil
	return out
}

// TestPushRegistryDiesMidway kills the registry right after the first
// child manifest is written: the build fails, the tag is never written,
// and a rerun against the restarted registry uploads no blob again.
func TestPushRegistryDiesMidway(t *testing.T) {
	dir := t.TempDir()
	stop, addr, err := startRegistry(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	proxy := &recordingProxy{target: addr}
	var once sync.Once
	t.Cleanup(func() { once.Do(stop) }) // the hook below may never run
	proxy.after = func(method, path string, status int) {
		if method == "PUT" && strings.Contains(path, "/manifests/sha256:") && status == http.StatusCreated {
			once.Do(stop)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(proxy)
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	repo := l.Addr().String() + "/fault/app"

	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
	build := []string{"build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64,linux/s390x", "-t", repo + ":v1", "--push", ctxDir}
	r := polyarch(t, s, build...)
	if r.Code == 0 {
		t.Fatal("push succeeded although the registry died after the first child manifest")
	}
	first := proxy.take()
	if countMatching(first, "PUT", "/manifests/v1") != 0 {
		t.Fatalf("the tag was written before the registry died: %v", first)
	}
	blobsFirst := countMatching(first, "PUT", "/blobs/uploads/")

	stop2, addr2, err := restartRegistry(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer stop2()
	proxy.mu.Lock()
	proxy.target, proxy.after = addr2, nil
	proxy.mu.Unlock()
	head := skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+repo+":v1")
	if head.Code == 0 {
		t.Fatalf("tag v1 exists after the failed push: %s", head.Stdout)
	}
	proxy.take()
	mustSucceed(t, polyarch(t, s, build...))
	second := proxy.take()
	// The rerun uploads only its provenance, made anew: one statement per
	// child and one for the index, and the empty config they share
	// (the first run died before any referrer).
	if n := countMatching(second, "PUT", "/blobs/uploads/"); n != 3+1+1 {
		t.Errorf("rerun uploaded %d blobs, want only the 5 of its provenance; the first run had uploaded all %d of the images", n, blobsFirst)
	}
	if countMatching(second, "PUT", "/manifests/v1") != 1 {
		t.Errorf("rerun did not write the tag: %v", second)
	}
	t.Logf("first run: %d blob uploads; rerun: %v", blobsFirst, second)
}

// restartRegistry starts a registry again on the data of dir.
func restartRegistry(t *testing.T, dir string) (func(), string, error) {
	t.Helper()
	fresh := filepath.Join(t.TempDir(), "r")
	if err := symlinkData(dir, fresh); err != nil {
		return nil, "", err
	}
	return startRegistry(fresh, "")
}

// symlinkData makes fresh/data point at dir/data so a new registry serves
// the same content with its own config and log.
func symlinkData(dir, fresh string) error {
	if err := mkdirAll(fresh); err != nil {
		return err
	}
	return symlink(filepath.Join(dir, "data"), filepath.Join(fresh, "data"))
}

// countMatching counts recorded requests with method whose path contains part.
func countMatching(reqs []string, method, part string) int {
	n := 0
	for _, r := range reqs {
		m, p, _ := strings.Cut(r, " ")
		if m == method && strings.Contains(p, part) {
			n++
		}
	}
	return n
}
