package config

import (
	"context"
	"encoding"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"github.com/medi-os/medi/shared/secrets"
)

// go-envconfig stops at the first problem. So that every problem is reported at once,
// loader walks the struct itself (mirroring go-envconfig's traversal: embedded and nested
// structs, pointers to them, prefix= and the options inherited from a parent field) and
// hands each field with an `env` tag to go-envconfig on its own, wrapped in a one-field
// struct with the same type and tag. go-envconfig thus keeps all decoding, defaults and
// required checks, and each field's problem is recorded under its variable name.

// loader is the state of one Load call.
type loader struct {
	ctx      context.Context
	opts     loadOptions
	lookuper envconfig.Lookuper
	names    func() []string // every variable name in the environment
	tier     Tier            // "" when MEDI_ENV is invalid

	resolverErr error        // creating the Secret Manager resolver failed
	closeFn     func() error // closes a resolver Load created

	problems []error
	failed   map[string]bool // variables with a problem
}

// inherited are the options a struct field passes down to the fields inside it.
type inherited struct {
	delimiter, separator        string
	noInit, overwrite, required bool
}

// tagOptions is a parsed `env` tag.
type tagOptions struct {
	delimiter, separator, prefix string
	noInit, overwrite, required  bool
}

// leafState records what the secret mutator did for one field.
type leafState struct {
	resolved  bool  // the value came from a secret
	mutateErr error // the mutator's own error
}

func (l *loader) add(name string, err error) {
	l.problems = append(l.problems, &VarError{Var: name, Err: err})
	l.failed[name] = true
}

func (l *loader) addAll(errs []error) {
	for _, err := range errs {
		l.problems = append(l.problems, err)
		if ve := (*VarError)(nil); errors.As(err, &ve) {
			l.failed[ve.Var] = true
		}
	}
}

// addValidation records the problems of a Validate method, one per joined error, leaving
// out those about variables that already have a problem (a variable that failed to
// decode is zero, and Validate would complain about that too).
func (l *loader) addValidation(err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			l.addValidation(e)
		}
		return
	}
	if ve := (*VarError)(nil); errors.As(err, &ve) && l.failed[ve.Var] {
		return
	}
	l.addAll([]error{err})
}

func (l *loader) closeResolver() {
	if l.closeFn != nil {
		// Nothing useful can be done about a failure to close a client used only here.
		_ = l.closeFn()
	}
}

// walkStruct processes the fields of the struct sv.
func (l *loader) walkStruct(sv reflect.Value, lk envconfig.Lookuper, inh inherited, path string, seen map[reflect.Type]bool) {
	t := sv.Type()
	if seen[t] {
		l.add(path, fmt.Errorf("%s: %w", t, envconfig.ErrRecursiveStruct))
		return
	}
	seen[t] = true
	defer delete(seen, t)

	for i := range t.NumField() {
		tf := t.Field(i)
		fv := sv.Field(i)
		fieldPath := tf.Name
		if path != "" {
			fieldPath = path + "." + tf.Name
		}
		tag := tf.Tag.Get("env")
		if !fv.CanSet() {
			if tag != "" {
				l.add(fieldPath, envconfig.ErrPrivateField)
			}
			continue
		}
		key, opts, err := parseTag(tag)
		if err != nil {
			l.add(fieldPath, err)
			continue
		}
		name := varName(lk, key, fieldPath)
		if opts.noInit && !canBeNil(tf.Type.Kind()) {
			l.add(name, envconfig.ErrNoInitNotPtr)
			continue
		}
		base, ok := nonPointerType(tf.Type)
		if !ok {
			l.add(name, fmt.Errorf("%s: %w", tf.Type, envconfig.ErrRecursivePointer))
			continue
		}

		if base.Kind() == reflect.Struct && (key == "" || !isDecoder(base)) {
			childLk := lk
			if opts.prefix != "" {
				childLk = envconfig.PrefixLookuper(opts.prefix, lk)
			}
			child := inherited{
				delimiter: cmpOr(opts.delimiter, inh.delimiter),
				separator: cmpOr(opts.separator, inh.separator),
				noInit:    inh.noInit || opts.noInit,
				overwrite: inh.overwrite || opts.overwrite,
				required:  inh.required || opts.required,
			}
			l.descend(fv, childLk, child, fieldPath, seen)
			continue
		}
		if opts.prefix != "" {
			l.add(name, envconfig.ErrPrefixNotStruct)
			continue
		}
		if tag == "" {
			continue
		}
		l.leaf(fv, tf, lk, inh, name)
	}
}

// descend walks the struct fv is or points to, allocating nil pointers (and leaving them
// nil under noinit when nothing was set).
func (l *loader) descend(fv reflect.Value, lk envconfig.Lookuper, inh inherited, path string, seen map[reflect.Type]bool) {
	switch {
	case fv.Kind() == reflect.Struct:
		l.walkStruct(fv, lk, inh, path, seen)
	case !fv.IsNil():
		l.descend(fv.Elem(), lk, inh, path, seen)
	default:
		fresh := reflect.New(fv.Type().Elem())
		l.descend(fresh.Elem(), lk, inh, path, seen)
		if !inh.noInit || !fresh.Elem().IsZero() {
			fv.Set(fresh)
		}
	}
}

// leaf decodes one field through go-envconfig and records its problem, if any, under name.
func (l *loader) leaf(fv reflect.Value, tf reflect.StructField, lk envconfig.Lookuper, inh inherited, name string) {
	holder := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "Value", Type: tf.Type, Tag: tf.Tag}})).Elem()
	holder.Field(0).Set(fv) // go-envconfig keeps a value already set unless told to overwrite
	state := &leafState{}
	err := envconfig.ProcessWith(l.ctx, &envconfig.Config{
		Target:           holder.Addr().Interface(),
		Lookuper:         lk,
		DefaultDelimiter: inh.delimiter,
		DefaultSeparator: inh.separator,
		DefaultNoInit:    inh.noInit,
		DefaultOverwrite: inh.overwrite,
		DefaultRequired:  inh.required,
		Mutators:         []envconfig.Mutator{l.secretMutator(tf.Type, state)},
	})
	if err != nil {
		l.add(name, describe(err, state, tf.Type))
		return
	}
	fv.Set(holder.Field(0))
}

// describe turns go-envconfig's error for the one-field holder into the problem to report.
func describe(err error, state *leafState, t reflect.Type) error {
	switch {
	case errors.Is(err, envconfig.ErrMissingRequired):
		return ErrRequired
	case state.mutateErr != nil:
		return state.mutateErr
	case state.resolved:
		// Decoding errors quote the value, which here is a secret.
		return fmt.Errorf("the value read from Secret Manager is not a valid %s (details withheld to keep the secret out of logs)", t)
	}
	if inner := errors.Unwrap(err); inner != nil {
		return inner // without go-envconfig's "Value: " (the holder's field name)
	}
	return err
}

// secretMutator resolves secret references in string fields.
func (l *loader) secretMutator(t reflect.Type, state *leafState) envconfig.Mutator {
	return envconfig.MutatorFunc(func(ctx context.Context, _, _, _, value string) (string, bool, error) {
		if !secrets.IsReference(value) {
			return value, false, nil
		}
		fail := func(err error) (string, bool, error) {
			state.mutateErr = err
			return "", true, err
		}
		if base, _ := nonPointerType(t); base.Kind() != reflect.String {
			return fail(fmt.Errorf("secret references are supported only in string fields, not in %s", t))
		}
		if l.opts.syntaxOnly {
			// Start-up check: the reference must be well formed and allowed in this
			// tier; it is resolved later, on first use, when the network may be used.
			if _, err := secrets.ParseReference(value); err != nil {
				return fail(err)
			}
			if !l.tier.IsDeployed() && l.opts.resolver == nil {
				return fail(fmt.Errorf("%w: Secret Manager is used only in staging and prod; in dev set the plain value (for example in .env)", ErrNoSecretResolver))
			}
			return value, false, nil
		}
		r, err := l.secretResolver()
		if err != nil {
			return fail(err)
		}
		v, err := r.Resolve(ctx, value)
		if err != nil {
			return fail(err)
		}
		state.resolved = true
		return v, false, nil
	})
}

// secretResolver returns the configured resolver or, in staging and prod, opens the
// Secret Manager resolver given by WithSecretManager on first use.
func (l *loader) secretResolver() (SecretResolver, error) {
	if l.opts.resolver != nil {
		return l.opts.resolver, nil
	}
	if l.resolverErr != nil {
		return nil, l.resolverErr
	}
	if !l.tier.IsDeployed() {
		return nil, fmt.Errorf("%w: Secret Manager is used only in staging and prod; in dev set the plain value (for example in .env)", ErrNoSecretResolver)
	}
	if l.opts.newResolver == nil {
		return nil, fmt.Errorf("%w: no Secret Manager client was given to Load", ErrNoSecretResolver)
	}
	r, closeFn, err := l.opts.newResolver(l.ctx)
	if err != nil {
		l.resolverErr = err
		return nil, err
	}
	l.opts.resolver, l.closeFn = r, closeFn
	return r, nil
}

// parseTag parses an `env` tag as go-envconfig does: "KEY, opt, opt=value, default=...".
func parseTag(tag string) (string, tagOptions, error) {
	var opts tagOptions
	key, rest, _ := strings.Cut(tag, ",")
	key = strings.TrimSpace(key)
	for rest != "" {
		var seg string
		seg, rest, _ = strings.Cut(rest, ",")
		o := strings.TrimLeftFunc(seg, isSpace)
		kw := strings.ToLower(strings.TrimRightFunc(o, isSpace))
		switch {
		case hasPrefixFold(o, "default="):
			return key, opts, nil // the default value takes the rest of the tag
		case kw == "required":
			opts.required = true
		case kw == "overwrite":
			opts.overwrite = true
		case kw == "noinit":
			opts.noInit = true
		case kw == "decodeunset":
		case hasPrefixFold(o, "prefix="):
			opts.prefix = o[len("prefix="):]
		case hasPrefixFold(o, "delimiter="):
			opts.delimiter = o[len("delimiter="):]
		case hasPrefixFold(o, "separator="):
			opts.separator = o[len("separator="):]
		default:
			return "", opts, fmt.Errorf("%q: %w", o, envconfig.ErrUnknownOption)
		}
	}
	return key, opts, nil
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// varName is the environment variable a field reads (with prefixes applied), or the Go
// field path when the tag names none.
func varName(lk envconfig.Lookuper, key, fieldPath string) string {
	if key == "" {
		return fieldPath
	}
	if k, ok := lk.(interface{ Key(string) string }); ok {
		return k.Key(key)
	}
	return key
}

func canBeNil(k reflect.Kind) bool {
	return k == reflect.Pointer || k == reflect.Slice || k == reflect.Map || k == reflect.UnsafePointer
}

// nonPointerType dereferences t until it is not a pointer; ok is false for a pointer type
// that dereferences to itself (type P *P).
func nonPointerType(t reflect.Type) (reflect.Type, bool) {
	seen := map[reflect.Type]bool{}
	for t.Kind() == reflect.Pointer {
		if seen[t] {
			return nil, false
		}
		seen[t] = true
		t = t.Elem()
	}
	return t, true
}

var (
	decoderCtxType        = reflect.TypeFor[envconfig.DecoderCtx]()
	decoderType           = reflect.TypeFor[envconfig.Decoder]()
	textUnmarshalerType   = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshalerType   = reflect.TypeFor[json.Unmarshaler]()
	binaryUnmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	gobDecoderType        = reflect.TypeFor[gob.GobDecoder]()
)

// isDecoder reports whether go-envconfig decodes a struct of type t from one value
// instead of walking its fields.
func isDecoder(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	for _, it := range []reflect.Type{decoderCtxType, decoderType, textUnmarshalerType, jsonUnmarshalerType, binaryUnmarshalerType, gobDecoderType} {
		if p.Implements(it) {
			return true
		}
	}
	return false
}
