package upstreamtest

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"time"
)

// SlowDrip sends a POST's headers and the first bytes of its body to addr,
// then one more byte every interval, as a slow-loris client does, and
// returns the status line the server answers with and how long it took.
// It gives up after a minute.
func SlowDrip(addr, host, path, body string, interval time.Duration) (string, time.Duration, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "", 0, err
	}
	defer conn.Close()
	start := time.Now()
	head := "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	first := 5
	if len(body) < first {
		first = len(body)
	}
	if _, err = conn.Write([]byte(head + body[:first])); err != nil {
		return "", 0, err
	}
	// Drip in the background until the server answers or hangs up.
	go func() {
		for i := first; i < len(body); i++ {
			time.Sleep(interval)
			if _, werr := conn.Write([]byte{body[i]}); werr != nil {
				return
			}
		}
	}()
	if err = conn.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		return "", 0, err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", time.Since(start), err
	}
	return strings.TrimSpace(line), time.Since(start), nil
}
