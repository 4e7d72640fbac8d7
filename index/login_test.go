package index

import (
	"strings"
	"testing"
)

func TestCredentialKey(t *testing.T) {
	for _, tc := range []struct{ in, key, registry, err string }{
		{in: "127.0.0.1:5000", key: "127.0.0.1:5000", registry: "127.0.0.1:5000"},
		{in: "https://127.0.0.1:5000/v2/", key: "127.0.0.1:5000", registry: "127.0.0.1:5000"},
		{in: "http://reg.example", key: "reg.example", registry: "reg.example"},
		{in: "quay.io/team", key: "quay.io/team", registry: "quay.io"},
		{in: "quay.io/team/app:1", err: "without tag or digest"},
		{in: "/team", err: "invalid registry"},
		{in: "https://", err: "invalid registry"},
	} {
		key, reg, err := CredentialKey(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("CredentialKey(%q) = %q, %q, %v; want an error containing %q", tc.in, key, reg, err, tc.err)
			}
			continue
		}
		if err != nil || key != tc.key || reg != tc.registry {
			t.Errorf("CredentialKey(%q) = %q, %q, %v; want %q, %q", tc.in, key, reg, err, tc.key, tc.registry)
		}
	}
}
