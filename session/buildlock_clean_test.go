package session

import "testing"

// TestLockStoreForBuildCleaning checks the clean-up runs only when no
// other build or prune holds the lock, and that the lock is then shared:
// another build gets it, a prune does not.
func TestLockStoreForBuildCleaning(t *testing.T) {
	for _, tc := range []struct {
		name      string
		otherHeld bool
		wantClean bool
	}{
		{"alone", false, true},
		{"another build running", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.otherHeld {
				other, err := LockStoreForBuild(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer other()
			}
			cleaned := false
			unlock, err := LockStoreForBuildCleaning(dir, func() { cleaned = true })
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			if cleaned != tc.wantClean {
				t.Errorf("clean ran: %v, want %v", cleaned, tc.wantClean)
			}
			next, err := LockStoreForBuild(dir)
			if err != nil {
				t.Fatalf("another build cannot share the lock: %v", err)
			}
			next()
			if _, err := LockStoreForPrune(dir); err != ErrStoreBusy {
				t.Errorf("prune during the build: %v, want ErrStoreBusy", err)
			}
		})
	}
}
