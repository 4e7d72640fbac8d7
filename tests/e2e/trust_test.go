package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePolicyFile writes a signature policy whose default requirement is
// of type kind (reject or insecureAcceptAnything) and returns its path.
func writePolicyFile(t *testing.T, kind string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), kind+".json")
	if err := os.WriteFile(p, []byte(`{"default":[{"type":"`+kind+`"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCopyChecksSignaturePolicy copies oci:→oci: and registry→oci-archive:,
// whole and as a platform subset (written byte for byte by polyarch's own
// transfer, not containers/image's copy), under a policy that rejects
// everything and one that accepts anything: the first fails naming the
// source and the policy and writes nothing, the second succeeds.
func TestCopyChecksSignaturePolicy(t *testing.T) {
	reject, accept := writePolicyFile(t, "reject"), writePolicyFile(t, "insecureAcceptAnything")
	srcs := map[string]string{
		"oci":      "oci:" + filepath.Join(env.Fixtures, "busybox-oci") + ":latest",
		"registry": "docker://" + env.Registry + "/busybox:latest",
	}
	dests := map[string]func(dir string) string{
		"oci":      func(dir string) string { return "oci:" + filepath.Join(dir, "layout") + ":x" },
		"registry": func(dir string) string { return "oci-archive:" + filepath.Join(dir, "a.tar") + ":x" },
	}
	for name, src := range srcs {
		for _, subset := range [][]string{nil, {"--platform", "linux/arm64"}} {
			t.Run(name+"/"+strings.Join(subset, "="), func(t *testing.T) {
				dir := t.TempDir()
				dst := dests[name](dir)
				args := append([]string{"copy", "-q", "--tls-verify=false"}, subset...)
				r := polyarch(t, newStore(t), append(args, "--signature-policy", reject, src, dst)...)
				if r.Code == 0 {
					t.Fatalf("copy of %s to %s under a rejecting policy succeeded", src, dst)
				}
				if !strings.Contains(r.Stderr, "rejected") || !strings.Contains(r.Stderr, strings.TrimPrefix(strings.TrimPrefix(src, "docker://"), "oci:")[:10]) {
					t.Errorf("the refusal names neither the rejection nor the source: %s", r.Stderr)
				}
				if strings.Contains(r.Stderr, "PolicyRejectedError") || (subset != nil && !strings.Contains(r.Stderr, reject)) {
					t.Errorf("the refusal does not name the policy %s: %s", reject, r.Stderr)
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("a rejected copy left %d entries in %s", len(entries), dir)
				}
				mustSucceed(t, polyarch(t, newStore(t), append(args, "--signature-policy", accept, src, dst)...))
				mustSucceed(t, skopeo(t, "inspect", "--raw", dst))
			})
		}
	}
}
