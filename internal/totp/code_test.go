package totp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// accept runs a typed code through the path a sign-in takes: normalise, then match with
// a window of one step either side.
func accept(t *testing.T, secret []byte, typed string, now time.Time) bool {
	t.Helper()
	code, err := NormalizeCode(typed)
	if err != nil {
		if !errors.Is(err, ErrInvalidFormat) {
			t.Fatalf("NormalizeCode(%q): got %v, want nil or ErrInvalidFormat", typed, err)
		}
		return false
	}
	_, ok := Match(secret, code, now, 1)
	return ok
}

// TestCode checks six-digit codes against the field cases' values, including the
// first and last second of each step around T0 and codes with leading zeros (C06).
func TestCode(t *testing.T) {
	v := loadVectors(t)
	seed20 := v.secret(t, "SEED20")
	type codeCase struct {
		name   string
		secret []byte
		sec    int64
		want   string
	}
	tests := []codeCase{
		{"T=29", seed20, 29, "755224"},
		{"T=30", seed20, 30, v.Seed20T59},
		{"T=59", seed20, 59, v.Seed20T59},
		{"T=60", seed20, 60, v.Seed20T60},
		{"T=89", seed20, 89, v.Seed20T60},
		{"T=1111111109", seed20, 1111111109, v.Seed20RFC6},
		{"leading zeros 000101", seed20, 1700004720, v.LeadingZero["SEED20@1700004720"]},
		{
			"leading zeros 002941", mustDecode(t, "R5MB5FAQNX5UIPWL"), 1355613270,
			v.LeadingZero["R5MB5FAQNX5UIPWL@1355613270"],
		},
	}
	for name, s := range v.Steps {
		tests = append(tests,
			codeCase{name + " from", seed20, s.From, s.Code},
			codeCase{name + " to", seed20, s.To, s.Code},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				t.Fatal("vector missing from testdata")
			}
			if got := Code(tt.secret, unix(tt.sec)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// mustDecode decodes a Base32 secret or stops the test.
func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := DecodeSecret(s)
	if err != nil {
		t.Fatalf("DecodeSecret: %v", err)
	}
	return b
}

func TestNormalizeCode(t *testing.T) {
	tests := []struct {
		in   string
		want string // empty: ErrInvalidFormat
	}{
		{"287082", "287082"},
		{"287 082", "287082"},
		{"287082\n", "287082"},
		{" 287082 ", "287082"},
		{"\t287082", "287082"},
		{"\r\n287082\r\n", "287082"},
		{"2 8 7\t0\n8\v2\f", "287082"},
		{"\u00a0287\u2009082\u3000", "287082"}, // no-break, thin and ideographic spaces
		{strings.Repeat(" ", 10000) + "287082", "287082"},
		{"002941", "002941"},
		{"000101", "000101"},
		{"000000", "000000"},

		{"", ""},
		{"   ", ""},
		{"0", ""},
		{"101", ""},
		{"00101", ""},
		{"2941", ""},
		{"02941", ""},
		{"0002941", ""},
		{"32303", ""},
		{"7323030", ""},
		{strings.Repeat("7", 10000), ""},
		{"287-082", ""},
		{"+287082", ""},
		{"-287082", ""},
		{"287082.", ""},
		{"28708a", ""},
		{"２８７０８２", ""},       // full-width digits
		{"٢٨٧٠٨٢", ""},       // Arabic-Indic digits
		{"287\u200b082", ""}, // zero-width space is not white space
		{"287082\x00", ""},
		{"\xff287082", ""},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 20 {
			name = name[:20] + "..."
		}
		t.Run(name, func(t *testing.T) {
			got, err := NormalizeCode(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidFormat) || got != "" {
					t.Errorf("got %q, %v; want ErrInvalidFormat", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestMatchWindow covers field case C09: with one step of skew, the neighbours of the
// current step are accepted and the steps beyond them are not, and the matched step is
// reported.
func TestMatchWindow(t *testing.T) {
	v := loadVectors(t)
	seed20 := v.secret(t, "SEED20")
	t0 := unix(v.ClockT0)
	n := v.StepNAt0
	tests := []struct {
		name     string
		code     string
		now      time.Time
		skew     int
		wantStep int64
		wantOK   bool
	}{
		{"N-2", v.Steps["N-2"].Code, t0, 1, 0, false},
		{"N-1", v.Steps["N-1"].Code, t0, 1, n - 1, true},
		{"N", v.Steps["N+0"].Code, t0, 1, n, true},
		{"N+1", v.Steps["N+1"].Code, t0, 1, n + 1, true},
		{"N+2", v.Steps["N+2"].Code, t0, 1, 0, false},
		{"N-1 without skew", v.Steps["N-1"].Code, t0, 0, 0, false},
		{"N without skew", v.Steps["N+0"].Code, t0, 0, n, true},
		{"N+2 skew 2", v.Steps["N+2"].Code, t0, 2, n + 2, true},
		{"N-1 negative skew", v.Steps["N-1"].Code, t0, -1, 0, false},
		{"N negative skew", v.Steps["N+0"].Code, t0, -1, n, true},
		{"T=59 code at 60", v.Seed20T59, unix(60), 1, 1, true},
		{"T=59 code at 89", v.Seed20T59, unix(89), 1, 1, true},
		{"T=59 code at 90", v.Seed20T59, unix(90), 1, 0, false},
		{"000000", "000000", t0, 1, 0, false},
		{"123456", "123456", t0, 1, 0, false},
		{"999999", "999999", t0, 1, 0, false},
		{"empty", "", t0, 1, 0, false},
		{"unnormalised", " " + v.Steps["N+0"].Code, t0, 1, 0, false},
		{"7 digits", v.Steps["N+0"].Code + "0", t0, 1, 0, false},
		{"5 digits", v.Steps["N+0"].Code[1:], t0, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := Match(seed20, tt.code, tt.now, tt.skew)
			if step != tt.wantStep || ok != tt.wantOK {
				t.Errorf("got %d, %t; want %d, %t", step, ok, tt.wantStep, tt.wantOK)
			}
		})
	}
}

// TestMatchLatestStep uses SEED20 steps whose codes collide, found by search and checked
// with oathtool: 57017782 and 57017784 both give 882938 (57017783 gives 598948), and
// 57766335 and 57766336 both give 251166. A window holding both reports the later step,
// so a replay guard that records it refuses the earlier one afterwards.
func TestMatchLatestStep(t *testing.T) {
	seed20 := []byte("12345678901234567890")
	tests := []struct {
		code     string
		now      int64
		wantStep int64
	}{
		{"882938", 57017783 * 30, 57017784},
		{"882938", 57017782 * 30, 57017782}, // 57017784 is outside the window
		{"251166", 57766335 * 30, 57766336},
		{"251166", 57766336 * 30, 57766336},
		{"251166", 57766334 * 30, 57766335},
	}
	for _, tt := range tests {
		step, ok := Match(seed20, tt.code, unix(tt.now), 1)
		if !ok || step != tt.wantStep {
			t.Errorf("Match(%s at %d): got %d, %t; want %d, true",
				tt.code, tt.now, step, ok, tt.wantStep)
		}
	}
}

// TestAccept runs typed codes through NormalizeCode and Match: whitespace is accepted
// (C08), leading zeros are significant (C06), and malformed or wrong codes are refused
// (C07).
func TestAccept(t *testing.T) {
	v := loadVectors(t)
	seed20 := v.secret(t, "SEED20")
	r5 := mustDecode(t, "R5MB5FAQNX5UIPWL")
	t0 := unix(v.ClockT0)
	tests := []struct {
		name   string
		secret []byte
		typed  string
		now    time.Time
		want   bool
	}{
		{"C08 inner space", seed20, "287 082", unix(59), true},
		{"C08 newline", seed20, "287082\n", unix(59), true},
		{"C08 both sides", seed20, " 287082 ", unix(59), true},
		{"C08 tab", seed20, "\t287082", unix(59), true},
		{"C08 hyphen", seed20, "287-082", unix(59), false},
		{"C06 002941", r5, "002941", unix(1355613270), true},
		{"C06 2941", r5, "2941", unix(1355613270), false},
		{"C06 02941", r5, "02941", unix(1355613270), false},
		{"C06 0002941", r5, "0002941", unix(1355613270), false},
		{"C06 000101", seed20, "000101", unix(1700004720), true},
		{"C06 101", seed20, "101", unix(1700004720), false},
		{"C06 00101", seed20, "00101", unix(1700004720), false},
		{"C07 000000", seed20, "000000", t0, false},
		{"C07 123456", seed20, "123456", t0, false},
		{"C07 999999", seed20, "999999", t0, false},
		{"C07 empty", seed20, "", t0, false},
		{"C07 0", seed20, "0", t0, false},
		{"C07 32303", seed20, "32303", t0, false},
		{"C07 7323030", seed20, "7323030", t0, false},
		{"C07 10000 digits", seed20, strings.Repeat("732303", 1667)[:10000], t0, false},
		{"C07 right code", seed20, "732303", t0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := accept(t, tt.secret, tt.typed, tt.now); got != tt.want {
				t.Errorf("got %t, want %t", got, tt.want)
			}
		})
	}
}

func TestOffset(t *testing.T) {
	v := loadVectors(t)
	seed20 := v.secret(t, "SEED20")
	t0 := unix(v.ClockT0)
	tests := []struct {
		name     string
		code     string
		maxSteps int
		want     int
		wantOK   bool
	}{
		{"now", v.Steps["N+0"].Code, 3, 0, true},
		{"one behind", v.Steps["N-1"].Code, 3, -1, true},
		{"two ahead", v.Steps["N+2"].Code, 3, 2, true},
		{"three behind", v.Steps["N-3"].Code, 3, -3, true},
		{"three ahead", v.Steps["N+3"].Code, 3, 3, true},
		{"beyond range", v.Steps["N+3"].Code, 2, 0, false},
		{"no range", v.Steps["N+1"].Code, 0, 0, false},
		{"unknown", "000000", 3, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Offset(seed20, tt.code, t0, tt.maxSteps)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %d, %t; want %d, %t", got, ok, tt.want, tt.wantOK)
			}
		})
	}

	// 57017782 and 57017784 share a code: the nearer step wins, the later one on a tie.
	cases := []struct {
		now  int64
		want int
	}{
		{57017783 * 30, 1},
		{57017782 * 30, 0},
		{57017781 * 30, 1},
		{57017785 * 30, -1},
	}
	for _, c := range cases {
		if got, ok := Offset(seed20, "882938", unix(c.now), 3); !ok || got != c.want {
			t.Errorf("Offset(882938 at %d): got %d, %t; want %d, true", c.now, got, ok, c.want)
		}
	}
}

// TestFixedParameters covers field case C21. The codes of HELLO10 at T0 under other
// parameters come from the field cases and are reproduced here with pquerna/otp, so a
// mismatch in either shows; the package must issue the SHA-1, 6-digit, 30-second code,
// which differs from all of them, and say so in the key URI.
func TestFixedParameters(t *testing.T) {
	v := loadVectors(t)
	hello := v.Secrets["HELLO10"]
	secret := v.secret(t, "HELLO10")
	t0 := unix(v.ClockT0)

	if got, want := Code(secret, t0), v.Hello10T0["SHA1/6/30"]; got != want {
		t.Fatalf("Code: got %s, want %s", got, want)
	}

	others := []struct {
		name string
		opts totp.ValidateOpts
	}{
		{"SHA256/6/30", totp.ValidateOpts{Period: 30, Digits: 6, Algorithm: otp.AlgorithmSHA256}},
		{"SHA512/6/30", totp.ValidateOpts{Period: 30, Digits: 6, Algorithm: otp.AlgorithmSHA512}},
		{"SHA1/8/30", totp.ValidateOpts{Period: 30, Digits: 8, Algorithm: otp.AlgorithmSHA1}},
		{"SHA1/6/60", totp.ValidateOpts{Period: 60, Digits: 6, Algorithm: otp.AlgorithmSHA1}},
	}
	for _, o := range others {
		t.Run(o.name, func(t *testing.T) {
			other, err := totp.GenerateCodeCustom(hello, t0, o.opts)
			if err != nil {
				t.Fatalf("GenerateCodeCustom: %v", err)
			}
			if other != v.Hello10T0[o.name] {
				t.Fatalf("pquerna %s: got %s, want %s", o.name, other, v.Hello10T0[o.name])
			}
			if _, ok := Match(secret, other, t0, 1); ok {
				t.Errorf("Match accepted the %s code %s", o.name, other)
			}
		})
	}

	if Digits != 6 || Period != 30*time.Second || SecretSize != 20 {
		t.Errorf("got Digits=%d Period=%v SecretSize=%d; want 6, 30s, 20",
			Digits, Period, SecretSize)
	}
	uri := KeyURI("Acme", "alice@example.com", secret)
	if !strings.HasSuffix(uri, "&algorithm=SHA1&digits=6&period=30") {
		t.Errorf("KeyURI: got %q, want algorithm=SHA1&digits=6&period=30 at the end", uri)
	}
}
