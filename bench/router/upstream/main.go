// Command upstream is the router benchmark's app: it answers every request
// with a short text, on the address given as its argument.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	body := []byte("hello from the upstream\n")
	log.Fatal(http.ListenAndServe(os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})))
}
