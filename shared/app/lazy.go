package app

import (
	"context"
	"sync"
)

// Lazy creates a value once, on first use. Unlike sync.Once, a failed creation is not
// remembered: the next caller tries again (a cold start that met a blip must not leave
// the instance broken for its whole life).
type Lazy[T any] struct {
	mu     sync.Mutex
	done   bool
	v      T
	create func(context.Context) (T, error)
}

// NewLazy returns a Lazy that calls create on first Get.
func NewLazy[T any](create func(context.Context) (T, error)) *Lazy[T] {
	return &Lazy[T]{create: create}
}

// Get returns the value, creating it if needed.
func (l *Lazy[T]) Get(ctx context.Context) (T, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return l.v, nil
	}
	v, err := l.create(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	l.v, l.done = v, true
	return v, nil
}

// Peek returns the value and true if it has been created.
func (l *Lazy[T]) Peek() (T, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.v, l.done
}
