package shixincheck

import "context"

type batchKey struct{}

// WithBatch marks ctx as a check done for the batch with the given ID, so
// that a captcha asked for under it counts as that batch waiting for a person.
func WithBatch(ctx context.Context, batchID string) context.Context {
	return context.WithValue(ctx, batchKey{}, batchID)
}

// BatchOf returns the batch ID WithBatch put in ctx, or "".
func BatchOf(ctx context.Context) string {
	id, _ := ctx.Value(batchKey{}).(string)
	return id
}
