"""E-mail over SMTP: one `Notification` becomes a multipart/alternative message (plain text + HTML).

Each `send` opens one SMTP connection (aiosmtplib), sends, and quits: notifications are rare enough that a kept
connection would mostly be a connection the server has already closed. Security follows the channel:

- "tls": implicit TLS from the first byte (usually port 465);
- "starttls": a plain connection upgraded with STARTTLS, which must succeed (usually port 587);
- "none": no encryption at all, and therefore no login: a channel with a username and security "none" is refused
  before anything is sent, so that a password never crosses the network in clear text.

The certificate is verified against the system's trust store unless a `tls_context` is given (tests pass one that
trusts their self-signed certificate).

Headers that matter to recipients and their mail servers:

- `Message-ID` is derived from the notification's idempotency key, so a retry after a lost answer carries the same
  id and mail clients show one message, not two;
- `List-Unsubscribe` (and `List-Unsubscribe-Post` for an https address, RFC 8058 one-click) when the channel has an
  `unsubscribe` address;
- `Auto-Submitted: auto-generated` (RFC 3834) so that vacation responders stay quiet;
- `Content-Language` from the notification.

What a person wrote stays text: HTML-escaped in the HTML part, whose links and images are only the Markdown's own
(to http(s) or mailto addresses); the plain-text part spells a link out as "text (url)" and an image as
"[image: alt] (url)".

Errors: a 4xx reply, a lost or refused connection and a timeout ask to retry (`RetryLater`, delay 0 = the outbox's
backoff; 60 s for 421 "service not available"); a refused login, a 5xx reply and an untrusted certificate cannot be
fixed by retrying (`PermanentFailure`). No message ever contains the password.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from bot.messages.escape import safe_link
from bot.notifiers.base import Notification, PermanentFailure, RetryLater, mask
from bot.notifiers.text import Run, inline_runs
from bot.settings.notify import EmailChannel

__all__ = ["EmailNotifier", "build_message", "markdown_to_html", "markdown_to_text", "message_id"]

SERVICE_UNAVAILABLE_DELAY = 60.0  # seconds to wait after "421 service not available"
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
OPEN_LABEL = {"zh": "查看详情", "en": "Open"}


class EmailNotifier:
    """Sends notifications as e-mail to the channel's recipients through its SMTP server.

    `tls_context` replaces the default (system trust store, hostname checked) context for "tls" and "starttls";
    production leaves it unset.
    """

    def __init__(self, settings: EmailChannel, tls_context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._tls_context = tls_context

    async def send(self, notification: Notification) -> str:
        """Send one message; returns the server's answer, e.g. "accepted for 2 recipients: OK"."""
        settings = self._settings
        if settings.username and settings.security == "none":
            raise PermanentFailure(
                f"refusing to log in to {settings.host}:{settings.port} as {settings.username!r} over an unencrypted "
                'connection: set security = "starttls" or "tls"')
        try:
            message = build_message(notification, settings)
        except ValueError as error:  # an address or header the e-mail library cannot write
            raise PermanentFailure(self._hide(f"cannot build the message: {error}")) from None
        try:
            refused, answer = await aiosmtplib.send(
                message,
                hostname=settings.host,
                port=settings.port,
                username=settings.username or None,  # no login without a user name
                password=settings.password if settings.username else None,
                use_tls=settings.security == "tls",
                start_tls=settings.security == "starttls",  # False for "none": no opportunistic upgrade either
                tls_context=self._tls_context,
                timeout=settings.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise self._recipients_refused(error.recipients) from None
        except aiosmtplib.SMTPResponseException as error:
            raise self._reply(error) from None
        except ssl.SSLCertVerificationError as error:
            raise self._certificate(error) from None
        except aiosmtplib.SMTPConnectError as error:
            if isinstance(error.__cause__, ssl.SSLCertVerificationError):
                raise self._certificate(error.__cause__) from None
            raise RetryLater(self._hide(f"cannot connect to {self._server()}: {error.message}"), 0.0) from None
        except (aiosmtplib.SMTPTimeoutError, TimeoutError):
            raise RetryLater(f"{self._server()} did not answer within {settings.timeout_seconds:g}s", 0.0) from None
        except aiosmtplib.SMTPServerDisconnected as error:
            raise RetryLater(self._hide(f"{self._server()} closed the connection: {error.message}"), 0.0) from None
        except aiosmtplib.SMTPNotSupported as error:  # e.g. non-ASCII addresses without SMTPUTF8
            raise PermanentFailure(self._hide(f"{self._server()}: {error.message}")) from None
        except aiosmtplib.SMTPException as error:  # STARTTLS or AUTH not offered, no usable AUTH mechanism
            raise PermanentFailure(self._hide(f"{self._server()}: {error.message}")) from None
        except ValueError as error:  # an address aiosmtplib will not put in the envelope
            raise PermanentFailure(self._hide(f"cannot send to these addresses: {error}")) from None
        except OSError as error:  # TLS errors other than the certificate, a network gone mid-way
            raise RetryLater(self._hide(f"{self._server()}: {type(error).__name__}: {error}"), 0.0) from None
        count = len(settings.recipients) - len(refused)
        result = f"accepted for {count} recipient{'' if count == 1 else 's'}: {answer.strip() or 'OK'}"
        if refused:
            result += "; refused: " + ", ".join(f"{address} ({reply.code} {reply.message})"
                                                for address, reply in refused.items())
        return self._hide(result)

    async def close(self) -> None:
        """Nothing to release: each `send` uses its own connection."""

    def _server(self) -> str:
        return f"{self._settings.host}:{self._settings.port}"

    def _hide(self, text: str) -> str:
        """`text` without the password, in clear or in the base64 forms AUTH LOGIN and AUTH PLAIN send it."""
        password, username = self._settings.password, self._settings.username
        if not password:
            return text
        encoded = [base64.b64encode(value.encode()).decode()
                   for value in (password, f"\0{username}\0{password}", f"{username}\0{password}")]
        return mask(text, password, *encoded)

    def _reply(self, error: aiosmtplib.SMTPResponseException) -> RetryLater | PermanentFailure:
        what = self._hide(f"{self._server()} answered {error.code} {error.message}")
        if isinstance(error, aiosmtplib.SMTPAuthenticationError) or error.code == 535:
            return PermanentFailure(self._hide(
                f"{self._server()} refused the login of {self._settings.username!r} (wrong user name or password?): "
                f"{error.code} {error.message}"))
        if error.code == 421:
            return RetryLater(what, SERVICE_UNAVAILABLE_DELAY)
        if 400 <= error.code < 500:
            return RetryLater(what, 0.0)
        return PermanentFailure(what)

    def _recipients_refused(self, refusals: list[aiosmtplib.SMTPRecipientRefused]) -> RetryLater | PermanentFailure:
        """Every recipient was refused: worth a retry only if every refusal was temporary (4xx)."""
        what = self._hide(f"{self._server()} refused every recipient: " + ", ".join(
            f"{refusal.recipient} ({refusal.code} {refusal.message})" for refusal in refusals))
        if refusals and all(400 <= refusal.code < 500 for refusal in refusals):
            delay = SERVICE_UNAVAILABLE_DELAY if any(refusal.code == 421 for refusal in refusals) else 0.0
            return RetryLater(what, delay)
        return PermanentFailure(what)

    def _certificate(self, error: ssl.SSLCertVerificationError) -> PermanentFailure:
        return PermanentFailure(self._hide(
            f"the TLS certificate of {self._server()} cannot be trusted: {error.verify_message or error}"))


def message_id(key: str) -> str:
    """`<sha256(key)[:32]@cobot>`: the same for every attempt at one notification (a new one without a key)."""
    if not key:
        return make_msgid(domain="cobot")
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@cobot>"


def build_message(notification: Notification, settings: EmailChannel) -> EmailMessage:
    """The e-mail for one notification: headers, then a plain-text part and its HTML alternative."""
    message = EmailMessage()
    message["Subject"] = " ".join(notification.title.split())  # a header cannot hold line breaks
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(notification.key)
    message["Auto-Submitted"] = "auto-generated"
    if settings.unsubscribe:
        message["List-Unsubscribe"] = f"<{settings.unsubscribe}>"
        if settings.unsubscribe.startswith("https://"):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(render_text(notification))
    message.add_alternative(notification.html or render_html(notification), subtype="html")
    html_part = message.get_payload()[1]
    for name, content_type, data in notification.attachments:  # shown inline: the HTML says <img src="cid:NAME">
        maintype, _, subtype = content_type.partition("/")
        html_part.add_related(base64.b64decode(data), maintype=maintype, subtype=subtype, cid=f"<{name}>",
                              filename=name, disposition="inline")
    # After the parts: making the message multipart moves every Content-* header into its first part.
    message["Content-Language"] = notification.language
    return message


def render_text(notification: Notification) -> str:
    """The plain-text part: the title, the body with Markdown links spelled out, the fields, the link."""
    lines = [notification.title, "", markdown_to_text(notification.body, notification.language)]
    if notification.fields:
        lines += [""] + [f"{label}: {value}" for label, value in notification.fields]
    if notification.link:
        lines += ["", f"{OPEN_LABEL.get(notification.language, OPEN_LABEL['en'])}: {notification.link}"]
    return "\n".join(lines).rstrip() + "\n"


def render_html(notification: Notification) -> str:
    """The HTML part, with inline styles only (mail clients drop style sheets); every text is escaped."""
    language = html.escape(notification.language)
    parts = [f'<h2 style="margin:0 0 16px 0;font-size:20px">{html.escape(notification.title)}</h2>',
             markdown_to_html(notification.body)]
    if notification.fields:
        rows = "".join(
            f'<tr><th align="left" style="padding:4px 16px 4px 0;color:#555;font-weight:600;vertical-align:top">'
            f'{html.escape(label)}</th><td style="padding:4px 0">{html.escape(value)}</td></tr>'
            for label, value in notification.fields)
        parts.append(f'<table role="presentation" style="border-collapse:collapse;margin:16px 0">{rows}</table>')
    if notification.link:
        label = html.escape(OPEN_LABEL.get(notification.language, OPEN_LABEL["en"]))
        link = safe_link(notification.link, SAFE_SCHEMES)
        if link:
            parts.append(
                f'<p style="margin:24px 0"><a href="{html.escape(link)}" style="display:inline-block;'
                'padding:10px 18px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;'
                f'font-weight:600">{label}</a></p>')
        else:
            parts.append(f"<p>{label}: {html.escape(notification.link)}</p>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{html.escape(notification.title)}</title></head>\n"
            '<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;'
            f'line-height:1.5;color:#222">\n{body}\n</body></html>\n')


# Markdown, the small subset notifications use: **bold**, *italic*, ~~strike~~, `code`, [text](url), ![alt](url),
# "- " lists, "> " quotes, line breaks. Each line is read into runs (bot.notifiers.text, CommonMark) and every run's
# text is HTML-escaped: only the tags written below are ever produced, links and images only to safe addresses.
_LIST_ITEM = re.compile(r"^[ \t]*[-*+][ \t]+")  # CommonMark's spaces only: U+3000 starts no item
_QUOTE = re.compile(r"^\s*>\s?")
_HTML_TAGS = {"bold": "strong", "italic": "em", "strike": "del", "code": "code"}
IMAGE_WORDS = {"zh": "图片：", "en": "image: "}


def inline_to_html(text: str) -> str:
    """One line of Markdown to HTML: each run's text escaped, then wrapped in its tag, link or image."""
    parts = []
    for run in inline_runs(text):
        escaped = html.escape(run.text)
        target = safe_link(run.href, SAFE_SCHEMES) if run.kind == "link" else safe_link(run.href)
        if run.kind == "link" and target:
            parts.append(f'<a href="{html.escape(target)}">{escaped}</a>')
        elif run.kind == "link":
            parts.append(f"{escaped} ({html.escape(run.href or '')})" if run.href else escaped)
        elif run.kind == "image" and target:
            parts.append(f'<img src="{html.escape(target)}" alt="{escaped}" style="max-width:100%">')
        elif run.kind in _HTML_TAGS:
            tag = _HTML_TAGS[run.kind]
            parts.append(f"<{tag}>{escaped}</{tag}>")
        else:
            parts.append(escaped)
    return "".join(parts)


def markdown_to_html(text: str) -> str:
    """Markdown to HTML: paragraphs (blank-line separated, single line breaks kept), lists, quotes."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    quote: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>\n".join(paragraph) + "</p>")
        if items:
            blocks.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
        if quote:
            blocks.append('<blockquote style="margin:0 0 16px 0;padding:0 12px;border-left:3px solid #ccc;'
                          'color:#555">' + "<br>\n".join(quote) + "</blockquote>")
        paragraph.clear()
        items.clear()
        quote.clear()

    for line in text.split("\n"):
        if not line.strip():
            flush()
        elif marker := _LIST_ITEM.match(line):
            if paragraph or quote:
                flush()
            items.append(inline_to_html(line[marker.end():].strip()))
        elif marker := _QUOTE.match(line):
            if paragraph or items:
                flush()
            quote.append(inline_to_html(line[marker.end():].strip()))
        else:
            if items or quote:
                flush()
            paragraph.append(inline_to_html(line.strip()))
    flush()
    return "\n".join(blocks)


def _run_text(run: Run, language: str) -> str:
    if run.kind == "code":
        return f"`{run.text}`"
    if run.kind == "image":
        word = IMAGE_WORDS.get(language, IMAGE_WORDS["en"])
        return f"[{word}{run.text}] ({run.href})" if run.href else f"[{word}{run.text}]"
    if run.kind == "link" and run.href and run.href != run.text:
        return f"{run.text} ({run.href})"
    return run.text


def markdown_to_text(text: str, language: str = "en") -> str:
    """Markdown as plain text: `[text](url)` becomes "text (url)", `![alt](url)` "[image: alt] (url)", emphasis
    and escapes disappear; headings, list and quote markers read as they are."""
    lines = ["".join(_run_text(run, language) for run in inline_runs(line)) for line in text.split("\n")]
    return "\n".join(lines).strip()
