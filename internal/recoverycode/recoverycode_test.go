package recoverycode

import (
	"bytes"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// codeFormat is the display format, with the alphabet written out independently.
var codeFormat = regexp.MustCompile(`^` + group4 + `-` + group4 + `-` + group4 + `$`)

const group4 = `[0-9A-HJKMNP-TV-Z]{4}`

// fixedStream returns the bytes of a Generate run whose codes were worked out by hand from
// the alphabet 0-9 A-H J K M N P-T V-Z (a byte b stands for symbol b mod 32).
func fixedStream() (stream []byte, want []string) {
	var s []byte
	for b := range 12 { // 0..11
		s = append(s, byte(b))
	}
	for b := 12; b < 24; b++ {
		s = append(s, byte(b))
	}
	for b := 24; b < 36; b++ { // 32..35 wrap to 0..3
		s = append(s, byte(b))
	}
	for b := 255; b > 243; b-- { // 255 is 31 mod 32
		s = append(s, byte(b))
	}
	for i := range 12 { // the first code again, with high bits set: must be skipped
		s = append(s, byte(i+32*(i%8)))
	}
	for sym := byte(10); sym < 16; sym++ { // A..F repeated
		s = append(s, bytes.Repeat([]byte{sym}, 12)...)
	}
	return s, []string{
		"0123-4567-89AB",
		"CDEF-GHJK-MNPQ",
		"RSTV-WXYZ-0123",
		"ZYXW-VTSR-QPNM",
		"AAAA-AAAA-AAAA",
		"BBBB-BBBB-BBBB",
		"CCCC-CCCC-CCCC",
		"DDDD-DDDD-DDDD",
		"EEEE-EEEE-EEEE",
		"FFFF-FFFF-FFFF",
	}
}

func TestGenerateFixedStream(t *testing.T) {
	stream, want := fixedStream()
	r := bytes.NewReader(stream)
	got, err := Generate(r)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Generate = %q, want %q", got, want)
	}
	if r.Len() != 0 {
		t.Errorf("Generate left %d bytes unread, want 0", r.Len())
	}
}

func TestGenerateRandom(t *testing.T) {
	codes, err := Generate(nil)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if len(codes) != Count {
		t.Fatalf("len(codes) = %d, want %d", len(codes), Count)
	}
	seen := make(map[string]bool)
	for _, c := range codes {
		if !codeFormat.MatchString(c) {
			t.Errorf("code %q does not match %s", c, codeFormat)
		}
		n, err := Normalize(c)
		if err != nil || len(n) != Length {
			t.Errorf("Normalize(%q) = %q, %v; want %d symbols", c, n, err, Length)
		}
		if seen[n] {
			t.Errorf("code %q appears twice", c)
		}
		seen[n] = true
	}
}

func TestGenerateBrokenSource(t *testing.T) {
	tests := map[string][]byte{
		"repeats itself": make([]byte, 1000),
		"runs out":       make([]byte, 50),
	}
	for name, stream := range tests {
		t.Run(name, func(t *testing.T) {
			if codes, err := Generate(bytes.NewReader(stream)); err == nil {
				t.Errorf("Generate = %q, want an error", codes)
			}
		})
	}
}

// TestRandomSymbolsRejects checks rejection sampling with a 31-symbol alphabet, where bytes
// 248..255 must be thrown away: 248 and 255 are skipped, 0 is '2', 30 and 247 (247 = 7*31 +
// 30) are 'Z', 31 is '2'.
func TestRandomSymbolsRejects(t *testing.T) {
	const alphabet31 = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	r := bytes.NewReader([]byte{248, 0, 255, 30, 31, 247, 99})
	got, err := randomSymbols(r, alphabet31, 4)
	if err != nil {
		t.Fatalf("randomSymbols: %v", err)
	}
	if got != "2Z2Z" {
		t.Errorf("randomSymbols = %q, want %q", got, "2Z2Z")
	}
	if r.Len() != 1 {
		t.Errorf("randomSymbols left %d bytes unread, want 1", r.Len())
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"ABCD-EFGH-JKMN", "ABCDEFGHJKMN"},
		{"abcd-efgh-jkmn", "ABCDEFGHJKMN"},
		{"abcdefghjkmn", "ABCDEFGHJKMN"},
		{"AbCd EfGh JkMn", "ABCDEFGHJKMN"},
		{" ab cd\tef gh\r\njk mn\n", "ABCDEFGHJKMN"},
		{"abcd_efgh.jkmn", "ABCDEFGHJKMN"},
		{"--abcd--efgh--jkmn--", "ABCDEFGHJKMN"},
		{"oOiI-lL23-4567", "001111234567"},
		{"0011-1123-4567", "001111234567"},
		{"PQRS-TVWX-YZ89", "PQRSTVWXYZ89"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNormalizeInvalid(t *testing.T) {
	tests := map[string]string{
		"empty":                "",
		"separators only":      " - _ . ",
		"11 symbols":           "ABCD-EFGH-JKM",
		"13 symbols":           "ABCD-EFGH-JKMNP",
		"letter U":             "ABCD-EFGH-JKMU",
		"punctuation":          "ABCD+EFGH+JKMN",
		"accented":             "ÀBCD-EFGH-JKMN",
		"fullwidth":            "ＡＢＣＤ-ＥＦＧＨ-ＪＫＭＮ",
		"dotless i":            "ıBCD-EFGH-JKMN",
		"non-breaking space":   "ABCD\u00a0EFGH-JKMN",
		"NUL":                  "ABCD\x00EFGH-JKMN",
		"invalid UTF-8":        "ABCD\xffEFGH-JKMN",
		"two codes":            "ABCD-EFGH-JKMN ABCD-EFGH-JKMN",
		"too long with spaces": strings.Repeat(" ", 60) + "ABCDEFGHJKMN",
		"1 MB of symbols":      strings.Repeat("A", 1<<20),
		"1 MB of spaces":       strings.Repeat(" ", 1<<20) + "ABCDEFGHJKMN",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Normalize(in)
			if !errors.Is(err, ErrInvalidFormat) {
				t.Fatalf("Normalize = %q, %v; want ErrInvalidFormat", got, err)
			}
			trimmed := strings.TrimSpace(in)
			if len(trimmed) >= 4 && strings.Contains(err.Error(), trimmed[:4]) {
				t.Errorf("error %q quotes the input", err)
			}
		})
	}
}

func TestHash(t *testing.T) {
	// Computed with openssl dgst -sha256 -mac HMAC -macopt hexkey:<salt>.
	salt, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	tests := []struct {
		code, want string
	}{
		{"0123456789AB", "50f5f50cb34a74dbfa146ce3bcbef2bf68ecd1384525e49cc0ae73220c24eaff"},
		{"ABCDEFGHJKMN", "db52f174233719f8d3eb8b39d0e26ba4eaeacc96c2cfaf38b0409e6d32828296"},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			if got := hex.EncodeToString(Hash(tc.code, salt)); got != tc.want {
				t.Errorf("Hash(%q) = %s, want %s", tc.code, got, tc.want)
			}
		})
	}
}

func TestNewSalt(t *testing.T) {
	stream := []byte("0123456789abcdefXYZ")
	got, err := NewSalt(bytes.NewReader(stream))
	if err != nil || string(got) != "0123456789abcdef" {
		t.Errorf("NewSalt = %q, %v; want %q", got, err, "0123456789abcdef")
	}
	if _, err := NewSalt(bytes.NewReader(stream[:15])); err == nil {
		t.Error("NewSalt(15 bytes): got nil error")
	}
}

// TestMatch covers field case C15: a match at the first or the last stored code, or none,
// costs the same comparisons.
func TestMatch(t *testing.T) {
	_, codes := fixedStream()
	salt := []byte("0123456789abcdef")
	stored := make([][]byte, len(codes))
	for i, c := range codes {
		n, err := Normalize(c)
		if err != nil {
			t.Fatalf("Normalize(%q): %v", c, err)
		}
		stored[i] = Hash(n, salt)
	}
	withDuplicate := append(slices.Clone(stored), stored[3])
	withShort := append([][]byte{stored[0][:8]}, stored[1:]...)

	tests := []struct {
		name   string
		stored [][]byte
		code   string
		want   int
	}{
		{"first", stored, "0123456789AB", 0},
		{"last", stored, "FFFFFFFFFFFF", 9},
		{"middle", stored, "ZYXWVTSRQPNM", 3},
		{"none", stored, "GGGGGGGGGGGG", -1},
		{"empty set", nil, "0123456789AB", -1},
		{"duplicate gives first", withDuplicate, "ZYXWVTSRQPNM", 3},
		{"truncated stored hash", withShort, "0123456789AB", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := Hash(tc.code, salt)
			if got := Match(tc.stored, h); got != tc.want {
				t.Errorf("Match = %d, want %d", got, tc.want)
			}

			compared := 0
			counting := func(a, b []byte) int {
				compared++
				return subtle.ConstantTimeCompare(a, b)
			}
			if got := match(tc.stored, h, counting); got != tc.want {
				t.Errorf("match = %d, want %d", got, tc.want)
			}
			if compared != len(tc.stored) {
				t.Errorf("compared %d stored hashes, want all %d", compared, len(tc.stored))
			}
		})
	}
}
