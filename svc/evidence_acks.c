/*
 * evidence_acks.c - the people register: who was asked to acknowledge
 * what, when it was first sent, how often they were reminded, and when
 * they acknowledged (see evidence.h).  One row per ack link, as
 * store_each_ack_link gives them.
 */
#include "herald/evidence.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "herald/store.h"
#include "herald/timeutil.h"

static const char *const columns[] = {
	"communication", "occurrence", "audience", "name", "email", "first_sent",
	"reminders", "acknowledged_at",
};
#define NCOLS (sizeof columns / sizeof columns[0])

/* The text table's headings, in the same order. */
static const char *const headings[NCOLS] = {
	"COMMUNICATION", "OCCURRENCE", "AUDIENCE", "NAME", "EMAIL", "FIRST SENT",
	"REMINDERS", "ACKNOWLEDGED",
};

struct acks_ctx {
	enum evidence_acks_format format;
	struct buf out;
	struct evidence_acks_totals t;
	char **cells;                  /* text: every cell, row by row */
	size_t ncells;
	size_t width[NCOLS];
};

static const char *when(int64_t t, char out[32])
{
	if (!t)
		return NULL;
	format_rfc3339_utc(t, out, 32);
	return out;
}

static void text_cell(struct acks_ctx *x, size_t col, const char *v)
{
	x->cells = xreallocarray(x->cells, x->ncells + 1, sizeof *x->cells);
	x->cells[x->ncells++] = xstrdup(v ? v : "");
	/* Width in characters, not bytes: names are often not ASCII. */
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++)
		w += (*p & 0xc0) != 0x80;
	if (w > x->width[col])
		x->width[col] = w;
}

static int on_link(const struct store_ack_link *l, void *ctx)
{
	struct acks_ctx *x = ctx;
	/* A drill asked its drill recipients, not the audience's people. */
	if (l->kind && strcmp(l->kind, "drill") == 0)
		return 0;
	x->t.asked++;
	if (l->acked_at)
		x->t.acknowledged++;
	else
		x->t.outstanding++;
	char occ[32], sent[32], acked[32], rem[24], shared[160];
	const char *o = l->has_occurrence ? when(l->occurrence, occ) : NULL;
	const char *s = when(l->first_sent, sent);
	const char *a = when(l->acked_at, acked);
	snprintf(rem, sizeof rem, "%" PRId64, l->reminders);
	const char *v[NCOLS] = { l->communication, o, l->audience, l->name, l->email, s,
				 rem, a };
	struct buf *b = &x->out;
	switch (x->format) {
	case EVIDENCE_ACKS_JSON:
		buf_adds(b, x->t.asked > 1 ? ",\n  {" : "\n  {");
		for (size_t i = 0; i < NCOLS; i++) {
			buf_printf(b, "%s\"%s\": ", i ? ", " : "", columns[i]);
			if (i == 6)
				buf_adds(b, rem);
			else
				buf_add_json(b, v[i]);
		}
		buf_addc(b, '}');
		break;
	case EVIDENCE_ACKS_CSV:
		for (size_t i = 0; i < NCOLS; i++) {
			if (i)
				buf_addc(b, ',');
			buf_add_csv(b, v[i]);
		}
		buf_adds(b, "\r\n");
		break;
	case EVIDENCE_ACKS_TEXT:
		/* A shared destination has no person: say which one it is. */
		if (!l->email && !l->name) {
			snprintf(shared, sizeof shared, "(channel %s)", l->channel_id ? l->channel_id : "?");
			v[3] = shared;
		}
		v[1] = o ? o : "(manual)";
		v[4] = l->email ? l->email : "-";
		v[5] = s ? s : "not sent";
		v[7] = a ? a : "outstanding";
		for (size_t i = 0; i < NCOLS; i++)
			text_cell(x, i, v[i]);
		break;
	}
	return 0;
}

static void text_row(struct buf *b, const size_t *width, const char *const *v)
{
	for (size_t i = 0; i < NCOLS; i++) {
		buf_adds(b, v[i]);
		if (i + 1 == NCOLS)
			break;
		size_t w = 0;
		for (const unsigned char *p = (const unsigned char *)v[i]; *p; p++)
			w += (*p & 0xc0) != 0x80;
		for (; w < width[i] + 2; w++)
			buf_addc(b, ' ');
	}
	buf_addc(b, '\n');
}

static void text_table(struct acks_ctx *x, const struct store_head *head)
{
	struct buf *b = &x->out;
	for (size_t i = 0; i < NCOLS; i++)
		if (strlen(headings[i]) > x->width[i])
			x->width[i] = strlen(headings[i]);
	text_row(b, x->width, headings);
	for (size_t r = 0; r < x->ncells / NCOLS; r++)
		text_row(b, x->width, (const char *const *)&x->cells[r * NCOLS]);
	char hex[65];
	hex_encode(head->hash, 32, hex);
	buf_printf(b, "%" PRId64 " asked, %" PRId64 " acknowledged, %" PRId64
		   " outstanding; chain head seq %" PRId64 " sha256 %s\n",
		   x->t.asked, x->t.acknowledged, x->t.outstanding, head->seq, hex);
}

enum herald_rc evidence_acks(struct store *s, const struct store_ack_filter *f,
			     enum evidence_acks_format format, FILE *out,
			     struct evidence_acks_totals *totals,
			     struct herald_err *err)
{
	struct acks_ctx x = { .format = format };
	buf_init(&x.out);
	if (format == EVIDENCE_ACKS_CSV) {
		for (size_t i = 0; i < NCOLS; i++)
			buf_printf(&x.out, "%s%s", i ? "," : "", columns[i]);
		buf_adds(&x.out, "\r\n");
	} else if (format == EVIDENCE_ACKS_JSON) {
		buf_addc(&x.out, '[');
	}
	struct store_head head;
	enum herald_rc rc = store_each_ack_link(s, f, on_link, &x, &head, err);
	if (!rc) {
		if (format == EVIDENCE_ACKS_JSON)
			buf_adds(&x.out, x.t.asked ? "\n]\n" : "]\n");
		else if (format == EVIDENCE_ACKS_TEXT)
			text_table(&x, &head);
		if (x.out.len && fwrite(x.out.data, 1, x.out.len, out) != x.out.len)
			rc = herald_err_set(err, H_ERUNTIME, "writing the register: %s",
					    strerror(errno));
		else if (fflush(out) != 0)
			rc = herald_err_set(err, H_ERUNTIME, "writing the register: %s",
					    strerror(errno));
	}
	if (!rc && totals)
		*totals = x.t;
	for (size_t i = 0; i < x.ncells; i++)
		free(x.cells[i]);
	free(x.cells);
	buf_free(&x.out);
	return rc;
}
