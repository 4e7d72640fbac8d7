package index

import (
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// entry returns a descriptor of digest d tagged tag ("" for none).
func entry(d, tag string) v1.Descriptor {
	e := v1.Descriptor{Digest: digest.Digest("sha256:" + strings.Repeat(d, 64))}
	if tag != "" {
		e.Annotations = map[string]string{v1.AnnotationRefName: tag}
	}
	return e
}

// TestMergeEntries checks which entries of index.json a merge keeps.
func TestMergeEntries(t *testing.T) {
	for _, tc := range []struct {
		name           string
		current, added []v1.Descriptor
		want           string
	}{
		{"new tag added", []v1.Descriptor{entry("a", "one")}, []v1.Descriptor{entry("b", "two")}, "a:one b:two"},
		{"tag moved", []v1.Descriptor{entry("a", "one"), entry("b", "two")}, []v1.Descriptor{entry("c", "one")}, "b:two c:one"},
		{"same digest, other tag", []v1.Descriptor{entry("a", "one")}, []v1.Descriptor{entry("a", "two")}, "a:one a:two"},
		{"untagged replaced by digest", []v1.Descriptor{entry("a", ""), entry("b", "")}, []v1.Descriptor{entry("a", "")}, "b: a:"},
		{"into an empty layout", nil, []v1.Descriptor{entry("a", "one")}, "a:one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range mergeEntries(tc.current, tc.added) {
				got = append(got, e.Digest.Encoded()[:1]+":"+e.Annotations[v1.AnnotationRefName])
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("mergeEntries = %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}
