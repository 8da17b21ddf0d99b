// Package loadtest is clientarea's load generator: it signs in over HTTP
// the way a crowd of customers would, at a fixed concurrency and within a
// bound on requests and time, and measures throughput, latency
// percentiles and the answers by status. It also reads a server process's
// memory and CPU time from /proc, so that the server can be measured
// apart from the load generator running next to it.
//
// Every request goes to a server on the loopback interface: NewClient
// refuses any other address, and the transport dials nothing else.
//
// The codes it sends are computed from the accounts' secrets with
// internal/totp. That is load, not a check of correctness: the tests of
// internal/totp and internal/auth check codes against independent tools.
package loadtest
