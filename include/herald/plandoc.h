/*
 * plandoc.h - the plan as its controlled document (ISO/IEC 27001 Clause
 * 7.5): what an auditor asks for first, rendered from the loaded plan.
 *
 * The document holds the document-control block (id, title, version,
 * owner, approval, next review, zone, content SHA-256), the Clause 7.4
 * matrix with one row per communication (what, when in words, with whom
 * with scope and size, how by channel and type, who, whether it is
 * acknowledged), the audiences, the channels (by type and public
 * details: never a secret, nor a URL), and the check warnings in force.
 * Deterministic: the same plan, format and day give the same bytes, and a
 * plan and its YAML twin give the same document.
 */
#ifndef HERALD_PLANDOC_H
#define HERALD_PLANDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/util.h"

struct plan;

enum plandoc_format {
	PLANDOC_TEXT,   /* plain text, wrapped at 78 columns */
	PLANDOC_MD,     /* Markdown (GitHub tables), for wikis */
	PLANDOC_HTML,   /* one self-contained, printable page */
};

/* Parses "text", "md" (or "markdown") and "html"; false otherwise. */
bool plandoc_format_name(const char *name, enum plandoc_format *f);

/* Appends p's document to out; now dates the warnings (lint_plan). */
void plandoc_render(const struct plan *p, enum plandoc_format f, int64_t now,
		    struct buf *out);

/*
 * plandoc_render's HTML page with a notice above the document control
 * block (plain text, escaped here; NULL: none).  GET /plan uses it when
 * the plan in force changed since its approval, so the copy in circulation
 * never looks approved when it is not (Clause 7.5).
 */
void plandoc_render_html_notice(const struct plan *p, int64_t now, const char *notice,
				struct buf *out);

/*
 * The HTML document as a fragment of another page (the report): a
 * <style> scoped to .plandoc, then <div class="plandoc" id="plandoc">
 * holding the document with an h2 title, h3 sections and ids prefixed
 * "plandoc-".  Appended to out.
 */
void plandoc_render_fragment(const struct plan *p, int64_t now, struct buf *out);

/*
 * A schedule in words, appended to out: "every 3 months from 15 Jan 2026,
 * 09:30 Europe/London, for 1 hour", "on demand (sent with herald send)".
 */
void plandoc_when(const struct plan *p, size_t comm, struct buf *out);

/* The notify offsets in words: "notified 7 days before and at the start". */
void plandoc_notify(const struct plan *p, size_t comm, struct buf *out);

#endif
