"""chat_payloads.py - what Microsoft Teams (Workflows), Google Chat and
Mattermost accept, as their documentation describes it, for
http_receiver.py --validate: each check returns the list of problems of
one request (empty: the product would take it).

    teams       a message with one Adaptive Card attachment (1.4 or
                later), TextBlocks with wrap, within 28 KB
    googlechat  text and cardsV2 as the Chat API's Message resource
                defines them, within 32,000 bytes; a thread key only with
                messageReplyOption in the URL
    mattermost  Slack-compatible fields of an incoming webhook and of its
                message attachments
"""
import json
from urllib.parse import parse_qs


def _keys(where, obj, allowed, problems, required=()):
    if not isinstance(obj, dict):
        problems.append("%s: not an object" % where)
        return False
    for k in obj:
        if k not in allowed:
            problems.append("%s: unknown field %r" % (where, k))
    for k in required:
        if k not in obj:
            problems.append("%s: %r missing" % (where, k))
    return True


def _str(where, v, problems, limit=None):
    if not isinstance(v, str):
        problems.append("%s: not a string" % where)
    elif limit is not None and len(v) > limit:
        problems.append("%s: %d characters, more than %d" % (where, len(v), limit))


def teams(body, query):
    p = []
    if len(body.encode()) > 28000:
        p.append("body over 28 KB")
    m = json.loads(body)
    if not _keys("message", m, {"type", "attachments", "summary"}, p, ("type", "attachments")):
        return p
    if m.get("type") != "message":
        p.append("type is not message")
    atts = m.get("attachments")
    if not isinstance(atts, list) or len(atts) != 1:
        return p + ["attachments: not one attachment"]
    a = atts[0]
    _keys("attachment", a, {"contentType", "contentUrl", "content"}, p, ("contentType", "content"))
    if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
        p.append("attachment: not an Adaptive Card")
    c = a.get("content") or {}
    if c.get("type") != "AdaptiveCard":
        p.append("content: not an AdaptiveCard")
    try:
        major, minor = (int(x) for x in str(c.get("version")).split("."))
        if (major, minor) < (1, 4):
            p.append("card version below 1.4")
    except ValueError:
        p.append("card version %r" % c.get("version"))
    body_els = c.get("body") or []
    for i, el in enumerate(body_els):
        if el.get("type") == "TextBlock" and el.get("wrap") is not True:
            p.append("body[%d]: TextBlock without wrap: true" % i)
    facts = [el for el in body_els if el.get("type") == "FactSet"]
    if len(facts) != 1 or [f.get("title") for f in facts[0].get("facts", [])] != \
            ["Owner", "When", "Plan", "Version"]:
        p.append("no FactSet of owner, when, plan and version")
    for i, act in enumerate(c.get("actions") or []):
        if act.get("type") != "Action.OpenUrl" or not act.get("url") or not act.get("title"):
            p.append("actions[%d]: not an Action.OpenUrl with title and url" % i)
    return p


WIDGETS = {
    "textParagraph": {"text", "maxLines", "textSyntax"},
    "decoratedText": {"topLabel", "text", "bottomLabel", "startIcon", "wrapText", "button"},
    "buttonList": {"buttons"},
    "divider": set(),
}


def _gchat_widget(where, w, p):
    if not isinstance(w, dict) or len(w) != 1 or next(iter(w)) not in WIDGETS:
        p.append("%s: not exactly one known widget" % where)
        return
    kind, v = next(iter(w.items()))
    _keys("%s.%s" % (where, kind), v, WIDGETS[kind], p)
    if kind in ("textParagraph", "decoratedText"):
        _str("%s.%s.text" % (where, kind), v.get("text"), p)
    if kind == "buttonList":
        for i, b in enumerate(v.get("buttons") or []):
            bw = "%s.buttonList.buttons[%d]" % (where, i)
            _keys(bw, b, {"text", "onClick", "icon", "color", "disabled", "altText"}, p,
                  ("text", "onClick"))
            link = (b.get("onClick") or {}).get("openLink") or {}
            if not isinstance(link.get("url"), str):
                p.append("%s: onClick.openLink.url missing" % bw)


def googlechat(body, query):
    p = []
    if len(body.encode()) > 32000:
        p.append("message over 32,000 bytes")
    m = json.loads(body)
    if not _keys("message", m, {"text", "cardsV2", "thread", "fallbackText",
                                "privateMessageViewer", "accessoryWidgets"}, p):
        return p
    if "text" not in m and "cardsV2" not in m:
        p.append("neither text nor cardsV2")
    if "text" in m:
        _str("text", m["text"], p, 4096)
    for i, cw in enumerate(m.get("cardsV2") or []):
        w = "cardsV2[%d]" % i
        if not _keys(w, cw, {"cardId", "card"}, p, ("cardId", "card")):
            continue
        card = cw["card"]
        _keys(w + ".card", card, {"header", "sections", "name", "fixedFooter",
                                  "cardActions", "displayStyle", "peekCardHeader",
                                  "sectionDividerStyle"}, p)
        if "header" in card:
            _keys(w + ".card.header", card["header"],
                  {"title", "subtitle", "imageUrl", "imageType", "imageAltText"}, p, ("title",))
        for j, sec in enumerate(card.get("sections") or []):
            sw = "%s.card.sections[%d]" % (w, j)
            _keys(sw, sec, {"header", "widgets", "collapsible", "uncollapsibleWidgetsCount"}, p)
            for k, wid in enumerate(sec.get("widgets") or []):
                _gchat_widget("%s.widgets[%d]" % (sw, k), wid, p)
    reply = parse_qs(query).get("messageReplyOption")
    if "thread" in m:
        _keys("thread", m["thread"], {"threadKey", "name"}, p)
        if reply != ["REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"]:
            p.append("thread without messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD")
    elif reply:
        p.append("messageReplyOption without a thread")
    return p


ATTACHMENT = {"fallback", "color", "pretext", "text", "author_name", "author_link",
              "author_icon", "title", "title_link", "fields", "image_url", "thumb_url",
              "footer", "footer_icon", "actions"}


def mattermost(body, query):
    p = []
    m = json.loads(body)
    if not _keys("webhook", m, {"text", "channel", "username", "icon_url", "icon_emoji",
                                "attachments", "type", "props", "priority"}, p):
        return p
    if not m.get("text") and not m.get("attachments"):
        p.append("neither text nor attachments")
    if "blocks" in m:
        p.append("Block Kit is Slack's only")
    if "text" in m:
        _str("text", m["text"], p, 16383)
    for i, a in enumerate(m.get("attachments") or []):
        w = "attachments[%d]" % i
        if not _keys(w, a, ATTACHMENT, p, ("fallback",)):
            continue
        _str(w + ".fallback", a["fallback"], p)
        for j, f in enumerate(a.get("fields") or []):
            _keys("%s.fields[%d]" % (w, j), f, {"title", "value", "short"}, p, ("title", "value"))
    return p


CHECKS = {"teams": teams, "googlechat": googlechat, "mattermost": mattermost}


def check(kind, body, query):
    try:
        return CHECKS[kind](body, query)
    except (ValueError, AttributeError, TypeError) as e:
        return ["not a %s payload: %s" % (kind, e)]
