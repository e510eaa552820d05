/*
 * report.h - the auditor's HTML report: one self-contained file (inline CSS
 * and SVG, no scripts, no network), printable and readable on a phone.
 *
 * Contents: plan metadata and approval status; per communication and
 * audience the planned, on-time, late, failed, missed, pending and
 * acknowledged counts and rates; per acknowledgement-required
 * communication and occurrence the people asked, acknowledged and
 * outstanding, the rate, and the names outstanding (in <details>, folded
 * beyond ten); a timeline chart of the period; the `check` warnings in
 * force; the verification result and the chain head.
 *
 * Acknowledgements count people (ack links, store_each_ack_link), never
 * deliveries: "acknowledged" is people who acknowledged, "ack-rate" is
 * that ÷ people asked (those whose first message fell due in the period,
 * not after now); both are "—" for a communication that asks for none.
 *
 * Counts carry stable attributes for machines:
 *   <td data-comm="C" data-aud="A" data-metric="late">3</td>
 * metrics: planned, recorded, on-time, late, failed, missed, pending,
 * dry-run, acknowledged, on-time-rate, ack-rate; the totals row uses
 * data-comm="_total" data-aud="_total".  The acknowledgements table
 * (<table id="acks">) has <td data-comm="C" data-occ="RFC3339"
 * data-metric="asked|acknowledged|outstanding|ack-rate"> (a manual send:
 * its first due time) and <ul class="names" data-comm data-occ> of those
 * outstanding.  The chain head is in
 * <code id="chain-head-seq"> and <code id="chain-head-sha256">, the
 * verification result in <p id="verify" data-ok="true|false">.
 */
#ifndef HERALD_REPORT_H
#define HERALD_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/util.h"

struct store;
struct plan;

struct report_opts {
	const struct plan *plan;  /* may be NULL: metadata from the log */
	bool has_from, has_to;    /* default: the span of the deliveries */
	int64_t from, to;         /* instants, [from, to) on due time */
	int64_t now;              /* for lint and "generated" */
};

/*
 * Renders the report of the evidence in s into out.  *verified (may be NULL) says whether
 * the chain verified; a failed verification is shown in the report, not
 * returned as an error.  H_ERUNTIME on database failure.
 */
enum herald_rc report_render(struct store *s, const struct report_opts *o,
			     struct buf *out, bool *verified,
			     struct herald_err *err);

#endif
