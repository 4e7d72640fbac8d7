package emulation

import (
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr string
	}{
		{"", ModeAuto, ""},
		{"auto", ModeAuto, ""},
		{"private", ModePrivate, ""},
		{"host", ModeHost, ""},
		{" Host ", ModeHost, ""},
		{"PRIVATE", ModePrivate, ""},
		{"rootless", "", `"rootless": valid values are auto, private and host`},
		{"hostx", "", "valid values"},
	}
	for _, tt := range tests {
		got, err := ParseMode(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseMode(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
