package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestPolyarchCommands checks how recipe shell becomes polyarch argument
// vectors: quotes, continuations, operators, comments, redirections,
// samples and globs, and that an expansion without a sample is an error.
func TestPolyarchCommands(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.json", "b.json"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	samples := map[string]string{"$IMAGE": "r.example/app", "${{ matrix.platform }}": "linux/arm64", "$(date +%s)": "7"}
	for _, tc := range []struct {
		script string
		want   [][]string
		err    string
	}{
		{`echo "$P" | polyarch login -u "u" --password-stdin r.example`, [][]string{{"login", "-u", "u", "--password-stdin", "r.example"}}, ""},
		{"polyarch build \\\n  --platform \"${{matrix.platform}}\" -t \"$IMAGE:1\" . # comment", [][]string{{"build", "--platform", "linux/arm64", "-t", "r.example/app:1", "."}}, ""},
		{"mkdir x && ./polyarch index create ${IMAGE}:2 --from-metadata *.json > out; polyarch info", [][]string{{"index", "create", "r.example/app:2", "--from-metadata", "a.json", "b.json"}, {"info"}}, ""},
		{`X=1 sudo polyarch build --source-date-epoch "$(date +%s)" '$IMAGE' .`, [][]string{{"build", "--source-date-epoch", "7", "$IMAGE", "."}}, ""},
		{`echo $UNSET; polyarch build .`, [][]string{{"build", "."}}, ""},
		{`polyarch build -t "$UNSET" .`, nil, "no sample value for $UNSET"},
	} {
		t.Run(tc.script, func(t *testing.T) {
			got, err := polyarchCommands(tc.script, samples, dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}
