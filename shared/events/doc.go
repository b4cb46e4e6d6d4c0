// Package events carries the facts Medi OS publishes on Pub/Sub and the plumbing every
// CloudEvent-triggered function needs around them.
//
//   - Envelope is the JSON payload of every message on the fact topics (encounter-events,
//     note-events). Only identifiers go into message attributes (eventId, type,
//     schemaVersion, clinicId); patient data lives in Envelope.Data, never in attributes.
//   - Publisher publishes envelopes; PubSubPublisher implements it over
//     cloud.google.com/go/pubsub/v2 with one cached publisher per topic.
//   - DecodePubSub, DecodeEnvelope and DecodeStorageObject turn the CloudEvents that
//     Eventarc (and functions-framework-go) deliver into typed values.
//   - Deduper remembers processed event ids in Firestore so a redelivered event has the
//     effect of one.
//   - Handle and HandleEnvelope wrap a CloudEvent function: they set up the request logger,
//     drop events older than a cut-off, dedupe, and decide deliberately between retry
//     (return the error) and drop (log it and return nil) for errors marked Permanent.
//
// Nothing in this package logs or returns payload data: logs and errors carry event ids,
// types and Pub/Sub message ids only.
package events
