// Command loadbench measures linkbff from outside, as a client sees it: the real
// binary, driven by a real load generator (wrk when it is installed, else a small Go
// one), against a bare net/http server that writes the same bytes, in the same run.
// linkbff is either the production build (-tags nodevtenant, what operators deploy)
// against a development tenant in a process of its own (-devtenant), or a build with
// the embedded development tenant, tenant and linkbff in one process. It reports, for warm GET /me/identities
// with one token reused: requests/s and p50/p99 of both and their ratio (rounds of
// the two interleaved), allocations per request of both, the upstream requests
// linkbff made during the run, and the peak RSS (VmHWM) of both under 1,000
// keep-alive connections, in fresh processes.
//
//	go run ./tools/loadbench -linkbff bin/linkbff -devtenant bin/devtenant
//	go run ./tools/loadbench -linkbff bin/linkbff-dev
//
// `make bench` runs it; BENCHMARKS.md holds its latest figures.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// The development tenant's demo seed: linkbff's application, its secret (a
	// development value, also in the tenant's seed) and its API.
	clientSecret = "linkbff-dev-secret-do-not-use-in-production"
	clientID     = "linkbff-dev-client"
	audience     = "https://linkbff.example/api"
	user         = "auth0|alice"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := serveBare(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench bare:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

type options struct {
	linkbff   string
	devtenant string // "": linkbff embeds its tenant
	wrk       string
	rounds    int
	duration  time.Duration
	conns     int
	idleConns int
	rssFor    time.Duration
}

func run() error {
	var o options
	flag.StringVar(&o.linkbff, "linkbff", "bin/linkbff-dev", "the linkbff binary: with -devtenant any build (make build's bin/linkbff), else one with the embedded development tenant")
	flag.StringVar(&o.devtenant, "devtenant", "", "the devtenant binary (make build's bin/devtenant), run as the tenant of a production-mode linkbff; empty: linkbff's embedded tenant")
	flag.StringVar(&o.wrk, "wrk", "wrk", "the wrk binary; the Go load generator when it is not found")
	flag.IntVar(&o.rounds, "rounds", 7, "rounds of bare and linkbff, interleaved")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "length of each measurement")
	flag.IntVar(&o.conns, "c", 64, "connections of the throughput rounds")
	flag.IntVar(&o.idleConns, "rss-c", 1000, "keep-alive connections of the peak-RSS run")
	flag.DurationVar(&o.rssFor, "rss-duration", 5*time.Second, "length of the peak-RSS run")
	flag.Parse()
	if p, err := exec.LookPath(o.wrk); err == nil {
		o.wrk = p
	} else {
		o.wrk = ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	fmt.Printf("loadbench: %s, GOMAXPROCS %d, load generator %s\n", runtime.Version(), runtime.GOMAXPROCS(0), generatorName(o.wrk))
	if o.devtenant != "" {
		fmt.Printf("linkbff: %s in production mode, its tenant %s in a process of its own\n", o.linkbff, o.devtenant)
	} else {
		fmt.Printf("linkbff: %s in development mode (its tenant embedded, in its process)\n", o.linkbff)
	}

	// Throughput and latency, both servers up, rounds interleaved.
	lb, err := startLinkbff(ctx, o)
	if err != nil {
		return err
	}
	defer lb.stop()
	bare, err := startBare(ctx, lb.body)
	if err != nil {
		return err
	}
	defer bare.stop()
	if err := lb.resetUpstream(ctx); err != nil {
		return err
	}
	var lbRuns, bareRuns []result
	lbMallocs, bareMallocs := []float64{}, []float64{}
	lbCPU, bareCPU := []float64{}, []float64{}
	for round := range o.rounds {
		order := []*server{bare, lb.server}
		if round%2 == 1 {
			order = []*server{lb.server, bare}
		}
		for _, s := range order {
			before, err := s.mallocs(ctx)
			if err != nil {
				return err
			}
			cpuBefore, err := s.cpuTime()
			if err != nil {
				return err
			}
			r, err := load(ctx, o.wrk, s.url+"/me/identities", lb.token, o.conns, o.duration)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if r.errors > 0 {
				// A refused request (a 429, say) is cheaper than a list: the figures
				// would not be those of the warm list.
				return fmt.Errorf("%s: %d of %d requests failed or were not 200", s.name, r.errors, r.requests)
			}
			cpuAfter, err := s.cpuTime()
			if err != nil {
				return err
			}
			after, err := s.mallocs(ctx)
			if err != nil {
				return err
			}
			perReq := float64(after-before) / float64(r.requests)
			cpuPerReq := float64(cpuAfter-cpuBefore) / float64(time.Microsecond) / float64(r.requests)
			if s == bare {
				bareRuns, bareMallocs, bareCPU = append(bareRuns, r), append(bareMallocs, perReq), append(bareCPU, cpuPerReq)
			} else {
				lbRuns, lbMallocs, lbCPU = append(lbRuns, r), append(lbMallocs, perReq), append(lbCPU, cpuPerReq)
			}
			fmt.Printf("  round %d %-7s %9.0f req/s  p50 %-9s p99 %-9s %5.1f allocs/req  %5.1f µs CPU/req  (%d requests, %d errors)\n",
				round+1, s.name, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), perReq, cpuPerReq, r.requests, r.errors)
		}
	}
	upstream, err := lb.upstream(ctx)
	if err != nil {
		return err
	}
	lb.stop()
	bare.stop()

	// Peak RSS with many keep-alive connections, each server fresh.
	rssLB, rssBare, err := peakRSS(ctx, o)
	if err != nil {
		return err
	}

	lbM, bareM := summarize(lbRuns), summarize(bareRuns)
	fmt.Printf("\nwarm GET /me/identities, one token, %d connections, %d rounds of %s (median, [min-max]):\n", o.conns, o.rounds, o.duration)
	fmt.Printf("  %-8s %26s %10s %10s %12s %14s\n", "", "req/s", "p50", "p99", "allocs/req", "µs CPU/req")
	for _, row := range []struct {
		name   string
		m      summary
		a, cpu []float64
	}{{"bare", bareM, bareMallocs, bareCPU}, {"linkbff", lbM, lbMallocs, lbCPU}} {
		fmt.Printf("  %-8s %9.0f [%6.0f-%6.0f] %10s %10s %12.1f %14.1f\n", row.name, row.m.rps, row.m.rpsMin, row.m.rpsMax,
			row.m.p50.Round(10*time.Microsecond), row.m.p99.Round(10*time.Microsecond), median(row.a), median(row.cpu))
	}
	ratios, cpuRatios := make([]float64, len(lbRuns)), make([]float64, len(lbRuns))
	for i := range lbRuns {
		ratios[i] = lbRuns[i].rps / bareRuns[i].rps
		cpuRatios[i] = bareCPU[i] / lbCPU[i]
	}
	fmt.Printf("  linkbff/bare requests/s: %.2f (per round: %s; target >= 0.85)\n", median(ratios), fmtList(ratios))
	fmt.Printf("  bare/linkbff CPU per request, the requests/s ratio of two saturated servers: %.2f (per round: %s)\n", median(cpuRatios), fmtList(cpuRatios))
	fmt.Printf("  upstream during the run: %s\n", upstream)
	fmt.Printf("\npeak RSS (VmHWM) under %d keep-alive connections for %s:\n", o.idleConns, o.rssFor)
	fmt.Printf("  bare %.1f MiB, linkbff %.1f MiB, ratio %.2f (target <= 1.25)\n", mib(rssBare), mib(rssLB), float64(rssLB)/float64(rssBare))
	return nil
}

func generatorName(wrk string) string {
	if wrk == "" {
		return "Go (wrk not found)"
	}
	return wrk
}

// server is one process under test.
type server struct {
	name    string
	url     string
	cmd     *exec.Cmd
	metrics string // where its malloc count is read
	once    sync.Once
}

func (s *server) stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	})
}

// mallocs reads the process's cumulative heap allocations.
func (s *server) mallocs(ctx context.Context) (uint64, error) {
	body, err := get(ctx, s.metrics, "")
	if err != nil {
		return 0, err
	}
	// linkbff: Prometheus text; bare: the number alone.
	text := string(body)
	if i := strings.Index(text, "\ngo_memstats_mallocs_total "); i >= 0 {
		text = strings.Fields(text[i+len("\ngo_memstats_mallocs_total "):])[0]
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil {
		return 0, fmt.Errorf("%s: malloc count: %w", s.name, err)
	}
	return uint64(f), nil
}

// cpuTime reads the CPU time (user and system) the process has used so far, from
// /proc/PID/stat: a cost per request that other load on the machine disturbs far
// less than requests/s.
func (s *server) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (in parentheses, which may hold spaces): state
	// is field 3, utime and stime are 14 and 15, in clock ticks.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unreadable /proc/PID/stat")
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}

// vmHWM reads the process's peak resident set size, in bytes.
func (s *server) vmHWM() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`).FindSubmatch(b)
	if m == nil {
		return 0, errors.New("no VmHWM in /proc/PID/status")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10, nil
}

type linkbff struct {
	*server
	tenantProc *server // the tenant's own process (-devtenant), else nil
	tenant     string
	token      string
	body       []byte
}

// startLinkbff runs linkbff as a deployment would log (JSON access lines at info, to
// a file it writes as stderr) with its abuse limits on, as deployed, but far above
// what the run sends, so that every request is counted and none refused. With
// o.devtenant it runs in production mode against that tenant binary, started here;
// else in development mode, with its embedded tenant.
func startLinkbff(ctx context.Context, o options) (*linkbff, error) {
	addr, tenantAddr := freeAddr(), freeAddr()
	var tenant *server // the tenant's own process, with -devtenant
	if o.devtenant != "" {
		cmd := exec.Command(o.devtenant, "-addr", tenantAddr, "-log-level", "warn")
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w (build it with make build)", o.devtenant, err)
		}
		tenant = &server{name: "devtenant", cmd: cmd}
		if err := waitUp(ctx, "http://"+tenantAddr+"/.well-known/jwks.json"); err != nil {
			tenant.stop()
			return nil, err
		}
	}
	cmd := exec.Command(o.linkbff)
	cmd.Env = append(os.Environ(),
		"LISTEN_ADDR="+addr, "LOG_FORMAT=json", "LOG_LEVEL=info",
		// The cache stays warm for the whole run.
		"IDENTITY_CACHE_TTL=1h",
		"RATE_LIMIT_USER_READS_PER_MINUTE=1000000000", "RATE_LIMIT_IP_READS_PER_MINUTE=1000000000")
	if tenant != nil {
		cmd.Env = append(cmd.Env, "AUTH0_DOMAIN=http://"+tenantAddr, "AUTH0_AUDIENCE="+audience,
			"AUTH0_CLIENT_ID="+clientID, "AUTH0_CLIENT_SECRET="+clientSecret)
	} else {
		cmd.Env = append(cmd.Env, "DEVTENANT_ADDR="+tenantAddr)
	}
	cmd.Stdout = io.Discard
	logs, err := os.CreateTemp("", "loadbench-linkbff-*.log")
	if err != nil {
		return nil, err
	}
	defer os.Remove(logs.Name())
	defer logs.Close()
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		if tenant != nil {
			tenant.stop()
		}
		return nil, fmt.Errorf("start %s: %w (build it with make build)", o.linkbff, err)
	}
	lb := &linkbff{
		server:     &server{name: "linkbff", url: "http://" + addr, cmd: cmd, metrics: "http://" + addr + "/metrics"},
		tenantProc: tenant,
		tenant:     "http://" + tenantAddr,
	}
	if err := waitUp(ctx, lb.url+"/healthz"); err != nil {
		lb.stop()
		return nil, err
	}
	mint, _ := json.Marshal(map[string]string{"user_id": user, "client_id": clientID, "audience": audience, "scope": "read:identities"})
	res, err := post(ctx, lb.tenant+"/__dev/tokens", mint)
	if err != nil {
		lb.stop()
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(res, &tok); err != nil || tok.AccessToken == "" {
		lb.stop()
		return nil, fmt.Errorf("minting a token: %v (%s)", err, res)
	}
	lb.token = tok.AccessToken
	if lb.body, err = get(ctx, lb.url+"/me/identities", lb.token); err != nil { // warms keys, token, cache
		lb.stop()
		return nil, err
	}
	return lb, nil
}

func (lb *linkbff) resetUpstream(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, lb.tenant+"/__dev/requests", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	return nil
}

// upstream says what linkbff asked of its tenant since resetUpstream.
func (lb *linkbff) upstream(ctx context.Context) (string, error) {
	b, err := get(ctx, lb.tenant+"/__dev/requests", "")
	if err != nil {
		return "", err
	}
	var r struct {
		Requests           map[string]int `json:"requests"`
		ManagementRequests int            `json:"management_requests"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return "", err
	}
	var parts []string
	for k, v := range r.Requests {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	slices.Sort(parts)
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	return fmt.Sprintf("%d Management API requests (%s)", r.ManagementRequests, strings.Join(parts, ", ")), nil
}

// startBare runs this program's bare server (a child process, so that its RSS is
// its own) writing body.
func startBare(ctx context.Context, body []byte) (*server, error) {
	f, err := os.CreateTemp("", "loadbench-body-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(body); err != nil {
		return nil, err
	}
	f.Close()
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr := freeAddr()
	cmd := exec.Command(self, "bare", addr, f.Name())
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: "bare", url: "http://" + addr, cmd: cmd, metrics: "http://" + addr + "/__mallocs"}
	if err := waitUp(ctx, s.metrics); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// serveBare is "the HTTP server itself": net/http with linkbff's server timeouts and
// a handler that writes the body as application/json and does nothing else. It also
// answers /__mallocs with its cumulative heap allocations.
func serveBare(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: loadbench bare ADDR BODY_FILE")
	}
	body, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/me/identities", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("/__mallocs", func(w http.ResponseWriter, _ *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprint(w, m.Mallocs)
	})
	srv := &http.Server{Addr: args[0], Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 20 * time.Second, IdleTimeout: 2 * time.Minute}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// peakRSS starts a fresh linkbff and a fresh bare server, warms linkbff with one
// request, loads each with idleConns keep-alive connections, and reads each one's
// VmHWM.
func peakRSS(ctx context.Context, o options) (lbRSS, bareRSS int64, err error) {
	lb, err := startLinkbff(ctx, o)
	if err != nil {
		return 0, 0, err
	}
	defer lb.stop()
	bare, err := startBare(ctx, lb.body)
	if err != nil {
		return 0, 0, err
	}
	defer bare.stop()
	for _, s := range []*server{bare, lb.server} {
		r, err := load(ctx, o.wrk, s.url+"/me/identities", lb.token, o.idleConns, o.rssFor)
		if err != nil {
			return 0, 0, fmt.Errorf("%s with %d connections: %w", s.name, o.idleConns, err)
		}
		hwm, err := s.vmHWM()
		if err != nil {
			return 0, 0, err
		}
		fmt.Printf("  %-7s %d connections: %.0f req/s, %d errors, VmHWM %.1f MiB\n", s.name, o.idleConns, r.rps, r.errors, mib(hwm))
		if s == bare {
			bareRSS = hwm
		} else {
			lbRSS = hwm
		}
	}
	return lbRSS, bareRSS, nil
}

// result is one measurement.
type result struct {
	requests int64
	errors   int64
	rps      float64
	p50, p99 time.Duration
}

// load sends GET url with the bearer token over conns keep-alive connections for d.
func load(ctx context.Context, wrk, url, token string, conns int, d time.Duration) (result, error) {
	if wrk == "" {
		return goLoad(ctx, url, token, conns, d)
	}
	threads := min(conns, max(1, runtime.NumCPU()/2))
	out, err := exec.CommandContext(ctx, wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%.0fs", d.Seconds()),
		"--latency", "-H", "Authorization: Bearer "+token, url).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

var (
	wrkRPS      = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkErrors   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func parseWrk(out string) (result, error) {
	var r result
	m := wrkRPS.FindStringSubmatch(out)
	n := wrkRequests.FindStringSubmatch(out)
	if m == nil || n == nil {
		return r, fmt.Errorf("cannot read wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	r.requests, _ = strconv.ParseInt(n[1], 10, 64)
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[3]]
		d := time.Duration(v * float64(unit))
		if p[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	for _, e := range wrkErrors.FindAllStringSubmatch(out, -1) {
		for _, v := range e[1:] {
			k, _ := strconv.ParseInt(v, 10, 64)
			r.errors += k
		}
	}
	return r, nil
}

// goLoad is the load generator when wrk is missing: conns goroutines, each with its
// own keep-alive connection, sending requests back to back.
func goLoad(ctx context.Context, url, token string, conns int, d time.Duration) (result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int64
		wg        sync.WaitGroup
	)
	end := time.Now().Add(d)
	for range conns {
		wg.Go(func() {
			var mine []time.Duration
			var bad int64
			for time.Now().Before(end) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				start := time.Now()
				res, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					bad++
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errs += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(latencies) == 0 {
		return result{}, errors.New("no request completed")
	}
	slices.Sort(latencies)
	return result{
		requests: int64(len(latencies)), errors: errs, rps: float64(len(latencies)) / d.Seconds(),
		p50: latencies[len(latencies)/2], p99: latencies[len(latencies)*99/100],
	}, nil
}

type summary struct {
	rps, rpsMin, rpsMax float64
	p50, p99            time.Duration
}

func summarize(rs []result) summary {
	var rps []float64
	var p50, p99 []time.Duration
	for _, r := range rs {
		rps, p50, p99 = append(rps, r.rps), append(p50, r.p50), append(p99, r.p99)
	}
	slices.Sort(p50)
	slices.Sort(p99)
	return summary{rps: median(rps), rpsMin: slices.Min(rps), rpsMax: slices.Max(rps), p50: p50[len(p50)/2], p99: p99[len(p99)/2]}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func fmtList(v []float64) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = fmt.Sprintf("%.2f", f)
	}
	return strings.Join(parts, " ")
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitUp polls url until it answers 200, for at most 20 seconds: a process just
// started has no other way to say it listens.
func waitUp(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		if _, err := get(ctx, url, ""); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer: %w", url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func get(ctx context.Context, url, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(req)
}

func post(ctx context.Context, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return do(req)
}

func do(req *http.Request) ([]byte, error) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", req.Method, req.URL, res.StatusCode, b)
	}
	return b, nil
}

// stop ends linkbff, then its tenant's process if it has one.
func (lb *linkbff) stop() {
	lb.server.stop()
	if lb.tenantProc != nil {
		lb.tenantProc.stop()
	}
}
