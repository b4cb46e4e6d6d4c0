// Command deadletters lists and replays dead letters (docs/runbooks/dead-letter-backlog.md).
// It uses Application Default Credentials, or the Pub/Sub emulator when
// PUBSUB_EMULATOR_HOST is set (the local stack):
//
//	go run ./scripts/cmd/deadletters list   -project $PROJECT
//	go run ./scripts/cmd/deadletters replay -project $PROJECT -subscription encounter-events-dlq-hold [-topic encounter-events] [-limit N]
//
// list shows, for every topic of the suite, how many messages its hold subscription
// keeps, with their ids, attributes (identifiers only) and delivery attempts, and hands
// them back untouched. replay republishes a hold subscription's messages onto their
// source topic and acknowledges each once republished. Message bodies are never printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"cloud.google.com/go/pubsub/v2"

	"github.com/medi-os/medi/scripts/deadletter"
)

// topics are the suite's topics with a dead-letter topic (terraform/pubsub.tf; the local
// stack adds uploads-notifications, which Eventarc replaces in production).
var topics = []string{"encounter-events", "note-events", "access-events", "uploads-notifications"}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd := os.Args[1]
	fl := flag.NewFlagSet(cmd, flag.ExitOnError)
	project := fl.String("project", os.Getenv("GOOGLE_CLOUD_PROJECT"), "Google Cloud project")
	sub := fl.String("subscription", "", "hold subscription to replay (<topic>-dlq-hold)")
	topic := fl.String("topic", "", "topic to replay onto (default: the hold subscription's source topic)")
	limit := fl.Int("limit", 0, "replay at most this many messages (0: all)")
	_ = fl.Parse(os.Args[2:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, cmd, *project, *sub, *topic, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "deadletters:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: deadletters list|replay -project P [-subscription S] [-topic T] [-limit N]")
	os.Exit(2)
}

func run(ctx context.Context, out io.Writer, cmd, project, sub, topic string, limit int) error {
	if project == "" {
		return errors.New("-project (or GOOGLE_CLOUD_PROJECT) is required")
	}
	c, err := pubsub.NewClient(ctx, project)
	if err != nil {
		return err
	}
	defer c.Close()
	switch cmd {
	case "list":
		for _, t := range topics {
			held, err := deadletter.Backlog(ctx, c, deadletter.HoldName(t), 1000)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %d message(s)\n", deadletter.HoldName(t), len(held))
			for _, m := range held {
				fmt.Fprintf(out, "  %s attempts=%d published=%s %s\n", m.ID, m.Attempts, m.PublishTime.UTC().Format("2006-01-02T15:04:05Z"), attrs(m.Attributes))
			}
		}
		return nil
	case "replay":
		if sub == "" {
			return errors.New("replay needs -subscription")
		}
		n, err := deadletter.Replay(ctx, c, sub, topic, limit)
		fmt.Fprintf(out, "replayed %d message(s) from %s\n", n, sub)
		return err
	}
	usage()
	return nil
}

func attrs(a map[string]string) string {
	var kv []string
	for k, v := range a {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, " ")
}
