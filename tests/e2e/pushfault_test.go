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
	p.requests = append(p.requests, r.Method+" "+r.URL.RequestURI())
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
// child manifest is written (platforms are pushed as each commits, so
// the others' blobs may not be uploaded yet): the build fails, the tag
// is never written, and a rerun against the restarted registry uploads
// no blob that the first run uploaded.
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
	blobsFirst := uploadedDigests(first)
	if len(blobsFirst) == 0 {
		t.Fatalf("the first run uploaded no blob before the registry died: %v", first)
	}

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
	for d := range uploadedDigests(second) {
		if blobsFirst[d] {
			t.Errorf("rerun uploaded blob %s again; the first run had uploaded it", d)
		}
	}
	if countMatching(second, "PUT", "/manifests/v1") != 1 {
		t.Errorf("rerun did not write the tag: %v", second)
	}
	t.Logf("first run: %d blob uploads; rerun: %v", len(blobsFirst), second)
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

// uploadedDigests returns the digests of the blob uploads completed
// (PUT .../blobs/uploads/...?digest=D) among the recorded requests.
func uploadedDigests(reqs []string) map[string]bool {
	out := map[string]bool{}
	for _, r := range reqs {
		m, uri, _ := strings.Cut(r, " ")
		if m != "PUT" || !strings.Contains(uri, "/blobs/uploads/") {
			continue
		}
		if d := uploadDigest.FindStringSubmatch(uri); d != nil {
			out[strings.Replace(d[1], "%3A", ":", 1)] = true
		}
	}
	return out
}
