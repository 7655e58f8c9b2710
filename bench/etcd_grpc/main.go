// etcd_grpc: etcd's put/range rates through etcd's own Go client (clientv3:
// gRPC over HTTP/2, protobuf), the counterpart of bench/etcd_raw.c (JSON
// gateway over libcurl): same flags, same operations, same output line with
// api=grpc. -C sets how many gRPC connections the workers share (default 1,
// the library's usual use: one client multiplexing all requests).
//
// Built offline against Debian's golang-etcd-server-dev by bench/etcd-raw.sh:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off go build -o etcd_grpc ./bench/etcd_grpc
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type result struct {
	lat    []time.Duration
	errors int64
	first  string
}

func main() {
	url := flag.String("u", "", "etcd endpoints, comma-separated")
	op := flag.String("o", "", "put|txn|get|prefix|seed")
	conns := flag.Int("c", 1, "concurrent workers (one request in flight each)")
	grpcConns := flag.Int("C", 1, "gRPC connections shared by the workers")
	secs := flag.Float64("d", 0, "duration in seconds")
	count := flag.Int64("n", 0, "operation count")
	valueLen := flag.Int("s", 1024, "value bytes")
	keys := flag.Int("k", 1000, "keys for seed/prefix")
	prefix := flag.String("P", "/bench-raw", "key prefix")
	serializable := flag.Bool("S", false, "serializable ranges")
	flag.Parse()
	if *op == "seed" && *count <= 0 && *secs <= 0 {
		*count = int64(*keys)
	}
	valid := map[string]bool{"put": true, "txn": true, "get": true, "prefix": true, "seed": true}
	if *url == "" || !valid[*op] || *conns < 1 || *grpcConns < 1 || (*secs <= 0 && *count <= 0) {
		flag.Usage()
		os.Exit(2)
	}
	eps := strings.Split(*url, ",")
	clients := make([]*clientv3.Client, *grpcConns)
	for i := range clients {
		c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second})
		if err != nil {
			fmt.Fprintln(os.Stderr, "etcd_grpc:", err)
			os.Exit(1)
		}
		defer c.Close()
		clients[i] = c
	}

	var next int64 = -1
	start := time.Now()
	deadline := start.Add(time.Duration(*secs * float64(time.Second)))
	results := make([]result, *conns)
	var wg sync.WaitGroup
	for w := 0; w < *conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cli := clients[w%len(clients)]
			r := &results[w]
			val := make([]byte, *valueLen)
			for i := range val {
				val[i] = 'v'
			}
			var ropts []clientv3.OpOption
			if *serializable {
				ropts = append(ropts, clientv3.WithSerializable())
			}
			for {
				i := atomic.AddInt64(&next, 1)
				if *count > 0 && i >= *count || *secs > 0 && time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				var err error
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				switch *op {
				case "put", "txn", "seed":
					copy(val, strconv.FormatInt(i, 10)+":")                               // differs per write, as in etcd_raw
					key := fmt.Sprintf("%s/%s/%d/%d/%d", *prefix, *op, os.Getpid(), w, i) // as etcd_raw
					if *op == "seed" {
						key = fmt.Sprintf("%s/k/%d", *prefix, i)
					}
					if *op == "txn" {
						var tr *clientv3.TxnResponse
						tr, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
							Then(clientv3.OpPut(key, string(val))).Commit()
						if err == nil && !tr.Succeeded {
							err = fmt.Errorf("txn did not succeed")
						}
					} else {
						_, err = cli.Put(ctx, key, string(val))
					}
				case "get", "prefix":
					key, want := *prefix+"/k/0", 1
					o := ropts
					if *op == "prefix" {
						key, want = *prefix+"/k/", *keys
						o = append(append([]clientv3.OpOption{}, ropts...), clientv3.WithPrefix())
					}
					var gr *clientv3.GetResponse
					gr, err = cli.Get(ctx, key, o...)
					if err == nil && len(gr.Kvs) != want {
						err = fmt.Errorf("%d keys, want %d", len(gr.Kvs), want)
					}
				}
				cancel()
				dt := time.Since(t0)
				if err != nil {
					if r.errors == 0 {
						r.first = err.Error()
					}
					r.errors++
					continue
				}
				r.lat = append(r.lat, dt)
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	var all []time.Duration
	var errors int64
	first := ""
	for _, r := range results {
		all = append(all, r.lat...)
		errors += r.errors
		if first == "" {
			first = r.first
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(q float64) float64 { // nearest rank, as bench_http's bh_pct
		if len(all) == 0 {
			return 0
		}
		i := int(q * float64(len(all)))
		if i >= len(all) {
			i = len(all) - 1
		}
		return float64(all[i]) / 1e6
	}
	var ru syscall.Rusage // the client's own CPU, as etcd_raw reports it
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	fmt.Printf("etcd_raw api=grpc op=%s conns=%d grpc_conns=%d value_bytes=%d ops=%d errors=%d secs=%.2f "+
		"ops_per_s=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f cpu_s=%.2f\n",
		*op, *conns, *grpcConns, *valueLen, len(all), errors, elapsed, float64(len(all))/elapsed,
		pct(0.5), pct(0.99), pct(1), cpu)
	if first != "" {
		fmt.Fprintln(os.Stderr, "etcd_grpc: first error:", first)
	}
	if errors > 0 && len(all) == 0 {
		os.Exit(1)
	}
}
