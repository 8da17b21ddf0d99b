package seal

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// maxKeyFile bounds what LoadOrCreateKeyFile reads; a real key file is a few hundred bytes.
const maxKeyFile = 64 << 10

const keyFileHeader = `# clientarea sealing keys, 64 hexadecimal digits a line.
# The first key seals new secrets; the others only open secrets sealed earlier.
# Keep this file private (mode 0600) and backed up: without it sealed secrets are lost.
`

// LoadOrCreateKeyFile reads the keys of the key file at path: one key of 64 hexadecimal
// digits a line, the first being the primary, blank lines and lines starting with # ignored.
// A file readable or writable by anyone but its owner is refused.
//
// When the file does not exist it is created with mode 0600, holding one new key read from
// rand (crypto/rand.Reader when rand is nil), and its folder is created with mode 0700 if
// missing. Creation uses O_EXCL, so two processes starting together both end up with the
// key of whichever created the file.
func LoadOrCreateKeyFile(path string, rand io.Reader) ([]Key, error) {
	keys, err := loadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return keys, err
	}

	err = createKeyFile(path, rand)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return loadKeyFile(path)
}

func loadKeyFile(path string) ([]Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seal: load key file: %w", err)
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal: load key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("seal: load key file %s: not a regular file", path)
	}
	// Windows has no Unix permission bits; there the folder's ACL must protect the file.
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("seal: load key file %s: permissions %04o are wider than 0600; "+
			"run chmod 600 on it", path, perm)
	}

	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("seal: load key file: %w", err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("seal: load key file %s: larger than %d bytes", path, maxKeyFile)
	}
	return parseKeyFile(path, data)
}

// parseKeyFile parses the file's content. Its errors name the line, never its text.
func parseKeyFile(path string, data []byte) ([]Key, error) {
	var keys []Key
	lines := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; lines.Scan(); n++ {
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return nil, fmt.Errorf("seal: load key file %s: line %d: %w", path, n, err)
		}
		keys = append(keys, k)
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("seal: load key file %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("seal: load key file %s: no keys", path)
	}
	return keys, nil
}

func createKeyFile(path string, r io.Reader) error {
	if r == nil {
		r = rand.Reader
	}
	var k Key
	if _, err := io.ReadFull(r, k[:]); err != nil {
		return fmt.Errorf("seal: create key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("seal: create key file: %w", err)
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("seal: create key file: %w", err)
	}
	_, err = f.WriteString(keyFileHeader + k.hexString() + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A half-written file would be refused at the next start; remove it instead.
		os.Remove(path)
		return fmt.Errorf("seal: create key file: %w", err)
	}
	return nil
}

// WriteKeyFile replaces the key file at path with keys, the first being the primary. It
// writes a temporary file in the same folder and renames it over path, so a crash leaves
// either the old file or the new one, never a mix. The file has mode 0600.
func WriteKeyFile(path string, keys []Key) error {
	if len(keys) == 0 {
		return errors.New("seal: write key file: no keys")
	}
	var b strings.Builder
	b.WriteString(keyFileHeader)
	for _, k := range keys {
		b.WriteString(k.hexString() + "\n")
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seal: write key file: %w", err)
	}
	// os.CreateTemp creates the file with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("seal: write key file: %w", err)
	}
	if err := writeAndClose(tmp, b.String()); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("seal: write key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("seal: write key file: %w", err)
	}
	syncDir(dir)
	return nil
}

func writeAndClose(f *os.File, content string) error {
	_, err := f.WriteString(content)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the rename durable. It is best effort: some systems cannot sync a folder,
// and the new file is complete either way.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
