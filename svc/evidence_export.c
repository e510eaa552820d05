/*
 * evidence_export.c - one row per delivery for an auditor's spreadsheet or
 * tool (see evidence.h).
 */
#include "herald/evidence.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "herald/store.h"
#include "herald/template.h"
#include "herald/timeutil.h"

static const char *const export_columns[] = {
	"delivery", "due", "sent", "state", "flags", "plan_id", "plan_version",
	"communication", "topic", "audience", "channel_type", "channel_id",
	"recipient", "attempts", "acknowledged_at", "acknowledged_by", "kind",
	"requested_by", "note", "message_id", "detail", "reply", "message",
};
#define NEXPORT (sizeof export_columns / sizeof export_columns[0])

struct export_ctx {
	FILE *f;
	enum evidence_format format;
	int64_t count;
	struct buf line, text;
};

static void flags_text(const struct store_delivery_view *d, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s%s%s", d->late ? "late" : "",
		 d->late && (d->duplicate || d->possible_duplicate) ? " " : "",
		 d->duplicate ? "duplicate" : "",
		 d->duplicate && d->possible_duplicate ? " " : "",
		 d->possible_duplicate ? "possible-duplicate" : "");
}

/* An instant as RFC 3339 UTC text, or NULL for none. */
static const char *when(int64_t t, char out[32])
{
	if (!t)
		return NULL;
	format_rfc3339_utc(t, out, 32);
	return out;
}

/*
 * The text as it went out, but for the ack link: a link is a capability
 * and stays the placeholder.  A member's name and the note are filled in.
 */
static void message_text(const struct store_delivery_view *d, struct buf *out)
{
	struct template_late v = {
		.name = d->recipient_name ? d->recipient_name : d->recipient ? d->recipient : "",
		.note = d->note ? d->note : "",
	};
	buf_reset(out);
	template_fill_late(d->text, &v, out);
}

/* The Message-ID an email delivery carried. */
static const char *message_id(const struct store_delivery_view *d, char *out, size_t n)
{
	if (!d->mail_domain || !d->key)
		return NULL;
	snprintf(out, n, "<%.32s.herald@%s>", d->key, d->mail_domain);
	return out;
}

static int export_row(const struct store_delivery_view *d, void *ctx)
{
	struct export_ctx *x = ctx;
	struct buf *b = &x->line;
	char mid[200];
	message_text(d, &x->text);
	char flags[64], attempts[24], due[32], sent[32], acked[32];
	flags_text(d, flags, sizeof flags);
	snprintf(attempts, sizeof attempts, "%" PRId64, d->attempts);
	const char *v[NEXPORT] = {
		d->key, when(d->due, due),
		strcmp(d->state, "sent") == 0 ? when(d->sent_at, sent) : NULL, d->state,
		flags, d->plan_id, d->plan_version, d->communication, d->topic, d->audience,
		d->channel_type, d->channel_id, d->recipient, attempts,
		when(d->acked_at, acked), d->acked_at ? d->acked_by : NULL, d->kind,
		d->requested_by, d->note,
		d->message_id ? d->message_id : message_id(d, mid, sizeof mid), d->detail,
		d->reply, d->text ? x->text.data : NULL,
	};
	buf_reset(b);
	if (x->format == EVIDENCE_CSV) {
		for (size_t i = 0; i < NEXPORT; i++) {
			if (i)
				buf_addc(b, ',');
			buf_add_csv(b, v[i]);
		}
		buf_adds(b, "\r\n");
	} else {
		buf_adds(b, x->count ? ",\n  {" : "\n  {");
		for (size_t i = 0; i < NEXPORT; i++) {
			if (i)
				buf_addc(b, ',');
			buf_addc(b, '"');
			buf_adds(b, export_columns[i]);
			buf_adds(b, "\":");
			if (i == 4) {          /* flags: a list of words */
				buf_addc(b, '[');
				const char *fw[3] = { d->late ? "late" : NULL,
						      d->duplicate ? "duplicate" : NULL,
						      d->possible_duplicate ? "possible-duplicate" : NULL };
				bool first = true;
				for (int k = 0; k < 3; k++)
					if (fw[k]) {
						buf_adds(b, first ? "" : ",");
						buf_add_json(b, fw[k]);
						first = false;
					}
				buf_addc(b, ']');
			} else if (i == 13) {  /* attempts: a number */
				buf_adds(b, attempts);
			} else {
				buf_add_json(b, v[i]);
			}
		}
		buf_addc(b, '}');
	}
	fwrite(b->data, 1, b->len, x->f);
	x->count++;
	return 0;
}

enum herald_rc evidence_export(struct store *s, const struct store_filter *filter,
			       enum evidence_format format, FILE *f, int64_t *count,
			       struct evidence_head *head, struct herald_err *err)
{
	struct export_ctx x = { .f = f, .format = format };
	buf_init(&x.line);
	buf_init(&x.text);
	struct store_filter all = { 0 };
	if (filter)
		all = *filter;
	all.with_text = true;
	struct buf hdr;
	buf_init(&hdr);
	if (format == EVIDENCE_CSV) {
		for (size_t i = 0; i < NEXPORT; i++)
			buf_printf(&hdr, "%s%s", i ? "," : "", export_columns[i]);
		buf_adds(&hdr, "\r\n");
	} else {
		buf_adds(&hdr, "{\"deliveries\":[");
	}
	fwrite(hdr.data ? hdr.data : "", 1, hdr.len, f);
	buf_free(&hdr);
	/* The head and the rows come from one snapshot: the head stated
	 * covers exactly the rows written.  JSON states it after the rows;
	 * CSV has rows only (a spreadsheet would take any other line for
	 * one), so the caller states it elsewhere. */
	struct store_head h;
	enum herald_rc rc = store_each_delivery(s, &all, export_row, &x, &h, err);
	if (!rc && head) {
		head->seq = h.seq;
		memcpy(head->hash, h.hash, 32);
		hex_encode(h.hash, 32, head->hex);
	}
	if (!rc && format == EVIDENCE_JSON) {
		char hex[65], from[32], to[32];
		hex_encode(h.hash, 32, hex);
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "%s],\"count\":%" PRId64 ",\"chain_head\":{\"seq\":%" PRId64
			   ",\"sha256\":\"%s\"},\"from\":", x.count ? "\n" : "", x.count,
			   h.seq, hex);
		buf_add_json(&b, filter && filter->has_from ? when(filter->from, from) : NULL);
		buf_adds(&b, ",\"to\":");
		buf_add_json(&b, filter && filter->has_to ? when(filter->to, to) : NULL);
		buf_adds(&b, "}\n");
		fwrite(b.data, 1, b.len, f);
		buf_free(&b);
	}
	buf_free(&x.line);
	buf_free(&x.text);
	if (!rc && (fflush(f) != 0 || ferror(f)))
		rc = herald_err_set(err, H_ERUNTIME, "export: write error: %s", strerror(errno));
	if (count)
		*count = x.count;
	return rc;
}
