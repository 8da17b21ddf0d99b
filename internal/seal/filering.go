package seal

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// FileKeyring is a Keyring kept in step with a key file, so that a key
// rotation done by another process (`clientarea admin rotate-key`) reaches
// a running server without a restart: before sealing it checks whether the
// file changed, and a blob naming a key it does not hold makes it read the
// file again before giving up. It is safe for concurrent use.
type FileKeyring struct {
	path string
	mu   sync.Mutex
	ring *Keyring
	mod  time.Time
	size int64
}

// OpenFileKeyring loads the key file at path, creating it with a new key
// from rand when it does not exist.
func OpenFileKeyring(path string, rand io.Reader) (*FileKeyring, error) {
	f := &FileKeyring{path: path}
	if _, err := LoadOrCreateKeyFile(path, rand); err != nil {
		return nil, err
	}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Keyring returns the keys as last loaded.
func (f *FileKeyring) Keyring() *Keyring {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ring
}

// Seal seals with the file's current primary key.
func (f *FileKeyring) Seal(plaintext, associatedData []byte) ([]byte, error) {
	if f.changed() {
		if err := f.Reload(); err != nil {
			return nil, err
		}
	}
	return f.Keyring().Seal(plaintext, associatedData)
}

// Open opens a blob, reading the file again if the blob's key is unknown.
func (f *FileKeyring) Open(blob, associatedData []byte) ([]byte, error) {
	plain, err := f.Keyring().Open(blob, associatedData)
	if !errors.Is(err, ErrUnknownKey) {
		return plain, err
	}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f.Keyring().Open(blob, associatedData)
}

func (f *FileKeyring) changed() bool {
	st, err := os.Stat(f.path)
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return !st.ModTime().Equal(f.mod) || st.Size() != f.size
}

// Reload reads the key file again.
func (f *FileKeyring) Reload() error {
	st, err := os.Stat(f.path)
	if err != nil {
		return err
	}
	keys, err := loadKeyFile(f.path)
	if err != nil {
		return err
	}
	ring, err := NewKeyring(keys...)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ring, f.mod, f.size = ring, st.ModTime(), st.Size()
	return nil
}
