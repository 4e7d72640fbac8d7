package builder

import (
	"strings"
	"testing"
)

// TestValidateShrink checks --allow-shrink is accepted only with an
// output that replaces a registry tag, and refused naming the flag
// otherwise.
func TestValidateShrink(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string // "" for accepted
	}{
		{"no flag, no push", Options{}, ""},
		{"with --push", Options{Outputs: []Output{{Type: OutputRegistry}}, Fanout: FanoutOptions{AllowShrink: true}}, ""},
		{"with --push and --push-by-digest", Options{Outputs: []Output{{Type: OutputRegistry}}, Fanout: FanoutOptions{AllowShrink: true, PushByDigest: "reg.example/app"}}, ""},
		{"alone", Options{Fanout: FanoutOptions{AllowShrink: true}}, "applies only to --push"},
		{"with a layout", Options{Outputs: []Output{{Type: OutputOCI, Dest: "/tmp/x"}}, Fanout: FanoutOptions{AllowShrink: true}}, "applies only to --push"},
		{"with --push-by-digest only", Options{Fanout: FanoutOptions{AllowShrink: true, PushByDigest: "reg.example/app"}}, "writes no tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.validateShrink()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
