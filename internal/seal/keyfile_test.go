package seal

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	hexKey0   = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	hexKey100 = "6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283"
)

func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is filtered by the umask; set it exactly.
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("mode of %s = %04o, want %04o", filepath.Base(path), got, want)
	}
}

func TestLoadOrCreateKeyFileCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "keys")
	path := filepath.Join(dir, "seal.keys")
	k := seqKey(0)
	random := bytes.NewReader(k[:])

	keys, err := LoadOrCreateKeyFile(path, random)
	if err != nil {
		t.Fatalf("LoadOrCreateKeyFile: %v", err)
	}
	if len(keys) != 1 || keys[0] != seqKey(0) {
		t.Fatalf("keys = %v, want [key 00..1f]", keys)
	}
	checkMode(t, path, 0o600)
	checkMode(t, dir, 0o700)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\n"+hexKey0+"\n") {
		t.Errorf("key file = %q, want a line %s", data, hexKey0)
	}

	// A second start reads the same key and needs no randomness.
	again, err := LoadOrCreateKeyFile(path, bytes.NewReader(nil))
	if err != nil || len(again) != 1 || again[0] != seqKey(0) {
		t.Errorf("second LoadOrCreateKeyFile = %v, %v; want the created key", again, err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	content := "# rotated 2026-01-01\n\n  " + hexKey100 + "  \r\n# old key\n" +
		strings.ToUpper(hexKey0) + "\n\n"
	path := filepath.Join(t.TempDir(), "seal.keys")
	writeFile(t, path, content, 0o600)

	keys, err := LoadOrCreateKeyFile(path, nil)
	if err != nil {
		t.Fatalf("LoadOrCreateKeyFile: %v", err)
	}
	if len(keys) != 2 || keys[0] != seqKey(100) || keys[1] != seqKey(0) {
		t.Errorf("keys = %v, want [key 64..83, key 00..1f]", keys)
	}
}

func TestLoadKeyFileRefusesWidePermissions(t *testing.T) {
	for _, perm := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666} {
		t.Run(perm.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seal.keys")
			writeFile(t, path, hexKey0+"\n", perm)

			_, err := LoadOrCreateKeyFile(path, nil)
			if err == nil {
				t.Fatal("LoadOrCreateKeyFile: got nil error")
			}
			if !strings.Contains(err.Error(), "permissions") {
				t.Errorf("error %q does not mention permissions", err)
			}
			if strings.Contains(err.Error(), hexKey0) {
				t.Errorf("error %q quotes the key", err)
			}
		})
	}
}

func TestLoadKeyFileErrors(t *testing.T) {
	tests := map[string]string{
		"empty":         "",
		"comments only": "# nothing here\n\n",
		"bad line":      hexKey0 + "\n" + hexKey100[:40] + "zz\n",
		"short key":     hexKey0[:60] + "\n",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seal.keys")
			writeFile(t, path, content, 0o600)
			_, err := LoadOrCreateKeyFile(path, nil)
			if err == nil {
				t.Fatal("LoadOrCreateKeyFile: got nil error")
			}
			for _, key := range []string{hexKey0, hexKey100} {
				if strings.Contains(err.Error(), key[:16]) {
					t.Errorf("error %q quotes the file", err)
				}
			}
		})
	}
}

func TestLoadKeyFileRefusesFolder(t *testing.T) {
	if _, err := LoadOrCreateKeyFile(t.TempDir(), nil); err == nil {
		t.Error("LoadOrCreateKeyFile(folder): got nil error")
	}
}

func TestWriteKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seal.keys")
	writeFile(t, path, hexKey0+"\n", 0o600)

	if err := WriteKeyFile(path, []Key{seqKey(100), seqKey(0)}); err != nil {
		t.Fatalf("WriteKeyFile: %v", err)
	}
	checkMode(t, path, 0o600)
	keys, err := LoadOrCreateKeyFile(path, nil)
	if err != nil {
		t.Fatalf("LoadOrCreateKeyFile: %v", err)
	}
	if len(keys) != 2 || keys[0] != seqKey(100) || keys[1] != seqKey(0) {
		t.Errorf("keys = %v, want [key 64..83, key 00..1f]", keys)
	}

	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the key file", len(entries))
	}
	if err := WriteKeyFile(path, nil); err == nil {
		t.Error("WriteKeyFile(no keys): got nil error")
	}
}
