package e2e

import (
	"slices"
	"strings"
	"testing"
)

// TestIndexPushRefusesShrink publishes a 3-platform index with index
// push, then pushes a 2-platform index from local storage to the same
// tag: refused, naming the dropped platform, the tag untouched;
// --allow-shrink publishes it.
func TestIndexPushRefusesShrink(t *testing.T) {
	s := newStore(t)
	tag := env.Registry + "/push-shrink:1"
	mustSucceed(t, polyarch(t, s, "index", "create", "localhost/shrink:3", fixtureIndex()))
	mustSucceed(t, polyarch(t, s, "index", "create", "--platform", "linux/amd64,linux/arm64", "localhost/shrink:2", fixtureIndex()))
	push := func(name string, extra ...string) result {
		return polyarch(t, s, append([]string{"index", "push", "--tls-verify=false", name, "docker://" + tag}, extra...)...)
	}
	mustSucceed(t, push("localhost/shrink:3"))
	before := skopeoDigest(t, "docker://"+tag)
	r := push("localhost/shrink:2")
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux/s390x, which the new index lacks") || !strings.Contains(r.Stderr, "--allow-shrink") {
		t.Errorf("exit %d, stderr %q: want a refusal naming linux/s390x and --allow-shrink", r.Code, r.Stderr)
	}
	if got := skopeoDigest(t, "docker://"+tag); got != before {
		t.Errorf("the refused push changed %s from %s to %s", tag, before, got)
	}
	mustSucceed(t, push("localhost/shrink:2", "--allow-shrink"))
	if got := platformsOf(decodeIndex(t, skopeoRaw(t, "docker://"+tag))); !slices.Equal(got, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("after --allow-shrink the tag lists %v, want linux/amd64 and linux/arm64", got)
	}
}
