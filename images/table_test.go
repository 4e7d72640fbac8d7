package images

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestWriteTable checks the rows podman's users expect: one per name,
// <none> for an untagged image, 12-digit IDs, human sizes and ages.
func TestWriteTable(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	id := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		img  Image
		want []string
	}{
		{"index with two names", Image{Names: []string{"localhost/app:1", "localhost/app:2"}, ID: id, Index: true,
			Platforms: []string{"linux/amd64", "linux/arm64"}, Size: 5991406, Created: now.Add(-2 * time.Minute)},
			[]string{"localhost/app:1  linux/amd64,linux/arm64  abababababab  5.99MB  2 minutes ago", "localhost/app:2  linux/amd64,linux/arm64"}},
		{"untagged image", Image{ID: id, Platforms: []string{"linux/s390x"}, Size: 2090000, Created: now.Add(-3 * time.Hour)},
			[]string{"<none>  linux/s390x  abababababab  2.09MB  3 hours ago"}},
		{"no platform", Image{Names: []string{"x:1"}, ID: "short", Created: now},
			[]string{"x:1   -  short  0B  Less than a second ago"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteTable(&b, []Image{tc.img}, now); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			if !strings.HasPrefix(lines[0], "NAME") || len(lines) != 1+max(1, len(tc.img.Names)) {
				t.Fatalf("table:\n%s", b.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(collapse(b.String()), collapse(w)) {
					t.Errorf("table lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// collapse reduces runs of spaces to one, so alignment does not matter.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
