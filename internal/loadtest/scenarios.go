package loadtest

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/clientarea/clientarea/internal/totp"
)

// Target is a server under load and what the load generator knows of it.
type Target struct {
	Client   *Client
	Accounts Accounts
	Pool     *Pool
	// PID is the server's process id, or 0 when it is unknown: then the
	// results carry no server CPU or memory figures.
	PID int
	// Database names the database server's processes ("postgres"), whose
	// CPU time is reported apart; empty for SQLite, which runs inside the
	// server.
	Database string
	Now      func() time.Time
}

// HalfSession is a half-signed-in session prepared for an account: the
// password step done, the code not yet sent.
type HalfSession struct {
	Account int
	Token   string
}

// SecondFactor measures the code step alone: each call sends a valid code
// for the next of sessions, which must be at least l.Requests long to
// keep the run from ending early with fewer calls.
func (t *Target) SecondFactor(ctx context.Context, l Load, sessions []HalfSession) Result {
	return t.measure(ctx, l, func(ctx context.Context, _, call int) Outcome {
		if call >= len(sessions) {
			return Outcome{Err: ErrExhausted}
		}
		s := sessions[call]
		r, waited, err := t.code(ctx, s.Account, s.Token)
		return Outcome{Status: r.Status, Err: err, Waited: waited}
	})
}

// code sends account a's code for the session, once the pool allows,
// and reports how long the pool made it wait.
func (t *Target) code(ctx context.Context, a int, session string) (Reply, time.Duration,
	error) {
	at, waited, err := t.Pool.Use(ctx, a)
	if err != nil {
		return Reply{}, waited, err
	}
	code := totp.Code(t.Accounts.Secret(a), at)
	r, err := t.Client.SecondFactor(ctx, session, code, ClientIP(a))
	return r, waited, err
}

// errNoSecondStep reports a sign-in that the password alone completed,
// which a load-test account with 2FA on must never see.
var errNoSecondStep = errors.New("loadtest: sign-in did not ask for a code")

// SignIn measures whole sign-ins: each call signs in a fresh account with
// its password and then its code. A call's status is that of the step
// that decided it.
func (t *Target) SignIn(ctx context.Context, l Load) Result {
	return t.measure(ctx, l, func(ctx context.Context, _, _ int) Outcome {
		return t.signIn(ctx, t.Pool.Reserve(1)[0], Password)
	})
}

func (t *Target) signIn(ctx context.Context, a int, password string) Outcome {
	r, err := t.Client.Login(ctx, t.Accounts.Email(a), password, ClientIP(a))
	if err != nil || r.Status != 200 {
		return Outcome{Status: r.Status, Err: err}
	}
	if !strings.Contains(r.Body, "second_factor_required") || r.Session == "" {
		return Outcome{Err: errNoSecondStep}
	}
	r, waited, err := t.code(ctx, a, r.Session)
	return Outcome{Status: r.Status, Err: err, Waited: waited}
}

// measure runs do under l and adds the CPU time the server used and, to
// show how busy the machine was, the time everything else used (the load
// generator itself not counted).
func (t *Target) measure(ctx context.Context, l Load,
	do func(ctx context.Context, worker, call int) Outcome) Result {
	before := t.cpu()
	res := Run(ctx, l, t.Now, do)
	after := t.cpu()
	if !before.ok || !after.ok {
		return res
	}
	res.ServerCPU = Millis(after.server - before.server)
	res.DatabaseCPU = Millis(after.database.Since(before.database))
	if res.OK > 0 {
		res.ServerCPUEach = res.ServerCPU / Millis(res.OK)
		res.DatabaseCPUEach = res.DatabaseCPU / Millis(res.OK)
	}
	other := (after.machine - before.machine) - (after.server - before.server) -
		(after.self - before.self) - time.Duration(res.DatabaseCPU)
	res.OtherCPU = Millis(max(other, 0))
	return res
}

// cpuTimes are the CPU times of the server, the database server, this
// process and the whole machine.
type cpuTimes struct {
	server, self, machine time.Duration
	database              ProcessTimes
	ok                    bool
}

func (t *Target) cpu() cpuTimes {
	srv, err1 := t.proc()
	self, err2 := ReadProc(os.Getpid())
	machine, err3 := MachineCPU()
	var db ProcessTimes
	var err4 error
	if t.Database != "" {
		db, err4 = CommandCPU(t.Database)
	}
	return cpuTimes{server: srv.CPU, database: db, self: self.CPU, machine: machine,
		ok: err1 == nil && err2 == nil && err3 == nil && err4 == nil}
}

func (t *Target) proc() (ProcStat, error) {
	if t.PID <= 0 {
		return ProcStat{}, errors.New("loadtest: server process unknown")
	}
	return ReadProcTree(t.PID)
}

// Flood is a burst of sign-ins that all start at once.
type Flood struct {
	// Size sign-ins start together, every other one with a wrong password.
	Size int
	// Session is a fully signed-in session whose page is fetched, with
	// /healthz, every ProbeEvery while the flood lasts.
	Session    string
	PagePath   string
	ProbeEvery time.Duration
	// Limit bounds the whole flood.
	Limit time.Duration
}

// FloodResult is what a flood did to the server.
type FloodResult struct {
	SignIns Result `json:"signins"`
	Healthz Result `json:"healthz"`
	Page    Result `json:"page"`
	// PeakRSS is the server's peak resident memory during the flood (or
	// since it started, where the peak cannot be reset), in bytes, with
	// the peaks of its child processes (its hashing workers) added.
	PeakRSS      int64 `json:"peak_rss_bytes,omitempty"`
	PeakRSSReset bool  `json:"peak_rss_reset"`
}

// Flood sends f.Size sign-ins at once from as many accounts and addresses
// and watches how the server answers everything else meanwhile.
func (t *Target) Flood(ctx context.Context, f Flood) FloodResult {
	var out FloodResult
	if t.PID > 0 {
		out.PeakRSSReset = ResetPeakTree(t.PID) == nil
	}
	accounts := t.Pool.Reserve(f.Size)
	probeCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { out.Healthz = t.probe(probeCtx, "/healthz", "", f.ProbeEvery) })
	wg.Go(func() { out.Page = t.probe(probeCtx, f.PagePath, f.Session, f.ProbeEvery) })
	l := Load{Concurrency: f.Size, Requests: f.Size, Duration: f.Limit}
	out.SignIns = t.measure(ctx, l, func(ctx context.Context, _, call int) Outcome {
		if call%2 == 1 {
			return t.signIn(ctx, accounts[call], WrongPassword)
		}
		return t.signIn(ctx, accounts[call], Password)
	})
	stop()
	wg.Wait()
	if p, err := t.proc(); err == nil {
		out.PeakRSS = p.PeakRSS
	}
	return out
}

// probe fetches path every so often until ctx ends, one request at a
// time, and measures each request, not the pauses between them.
func (t *Target) probe(ctx context.Context, path, session string, every time.Duration) Result {
	var lat []time.Duration
	statuses := map[string]int{}
	begin := t.Now()
	for ctx.Err() == nil {
		start := t.Now()
		r, err := t.Client.Get(ctx, path, session)
		if err != nil && ctx.Err() != nil {
			break // cut off by the end of the flood, not an answer
		}
		lat = append(lat, t.Now().Sub(start))
		statuses[statusKey(Outcome{Status: r.Status, Err: err})]++
		if Sleep(ctx, every) != nil {
			break
		}
	}
	return summarize(1, t.Now().Sub(begin), [][]time.Duration{lat},
		[]map[string]int{statuses})
}
