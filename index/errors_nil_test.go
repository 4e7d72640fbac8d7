package index

import (
	"fmt"
	"testing"
)

// TestErrorMatchersNil checks every error classifier answers false for a
// nil error instead of panicking on err.Error(): callers may pass the
// error of a call that succeeded.
func TestErrorMatchersNil(t *testing.T) {
	matchers := map[string]func(error) bool{
		"isNotFound":         isNotFound,
		"isAuthError":        isAuthError,
		"isPlainHTTP":        isPlainHTTP,
		"isUnknownAuthority": isUnknownAuthority,
		"isHostnameMismatch": isHostnameMismatch,
		"isUnresolved":       isUnresolved,
		"isSigstoreDisabled": isSigstoreDisabled,
	}
	for i, rule := range explainRules {
		matchers[fmt.Sprintf("explainRules[%d]", i)] = rule.match
	}
	for name, match := range matchers {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s(nil) panicked: %v", name, r)
				}
			}()
			if match(nil) {
				t.Fatalf("%s(nil) = true, want false", name)
			}
		})
	}
}
