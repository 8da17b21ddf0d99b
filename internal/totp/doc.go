// Package totp is the time-based one-time password core of clientarea's two-factor sign-in.
//
// Codes follow RFC 6238 (TOTP) on top of RFC 4226 (HOTP): the counter is the number of
// 30-second steps since the Unix epoch, the key is an HMAC-SHA1 key of SecretSize bytes,
// and the HMAC is truncated dynamically to a six-digit decimal code.
//
// The parameters are constants, not settings. The key URI may announce algorithm, digits
// and period, but several widely used authenticator apps ignore all three and always
// compute SHA-1, six digits, 30 seconds (field case C21). A server configured for SHA-256,
// eight digits or 60 seconds would then expect codes the user's phone never shows, and the
// user would be locked out the moment two-factor sign-in is switched on. Keeping the one
// combination every app implements removes that failure; the URI still states it
// explicitly for the apps that do read it.
//
// The generation of codes is delegated to github.com/pquerna/otp. This package adds what
// the library lacks or gets wrong for us: a key URI whose label and issuer survive any
// characters (see KeyURI), strict code normalisation that keeps leading zeros
// (NormalizeCode), and a window check that compares every step in constant time and
// reports which step matched (Match), so callers can refuse replays of that step.
//
// Nothing here reads the clock or a random source by itself: callers pass the time and
// the reader, so tests can pin both.
package totp
