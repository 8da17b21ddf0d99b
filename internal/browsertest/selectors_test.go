package browsertest

import "testing"

func TestLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ok", `"Ok"`},
		{"your phone's clock", `"your phone's clock"`},
		{`say "hi"`, `'say "hi"'`},
		{`it's "x"`, `concat("it's ", '"', "x", '"', "")`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := literal(tt.in); got != tt.want {
				t.Errorf("literal(%q): got %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
