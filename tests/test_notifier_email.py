"""The e-mail notifier against a real SMTP server (aiosmtpd on 127.0.0.1): the message as received, logins over
STARTTLS and implicit TLS with a certificate made for the test, and how the server's refusals are mapped."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from bot.notifiers.base import Notification, PermanentFailure, RetryLater
from bot.notifiers.email import EmailNotifier, build_message, markdown_to_html, message_id
from bot.settings.notify import EmailChannel

USER = "cobot"
PASSWORD = "s3cret-Passw0rd"
WRONG_PASSWORD = "not-the-Passw0rd"

NOTICE = Notification(
    title="New contributor: alice",
    body="**@alice** opened [#7 Fix <typo>](https://example.org/org/repo/issues/7?a=1&b=2) in `org/repo`.\n"
         "<script>alert('hi')</script>\n\n- first\n- second",
    link="https://example.org/org/repo/issues/7",
    fields=(("Repository", "org/repo"), ("Author", "@alice")),
    language="en",
    key="outbox:newcomer:7",
    topic="newcomer",
)


# --- the SMTP server -------------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it receives; `rcpt_replies` and `data_reply` make it refuse."""

    received: list[tuple[Envelope, Session]] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # recipient address -> reply
    data_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.received.append((envelope, session))
        return "250 Message accepted"

    def message(self, index: int = -1) -> EmailMessage:
        content = self.received[index][0].original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Authenticator:
    """Accepts USER with PASSWORD; remembers every attempt (to show when no login was even tried)."""

    attempts: list[tuple[str, bytes, bytes]] = field(default_factory=list)

    def __call__(self, server: Any, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.attempts.append((mechanism, auth_data.login, auth_data.password))
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[Callable[..., int]]:
    """Starts aiosmtpd controllers on 127.0.0.1 (a free port each, returned) and stops them after the test."""
    controllers: list[Controller] = []

    def start(handler: Recorder, **parameters: Any) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **parameters)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies the server (certificate and name) like the default context, trusting only this certificate."""
        return ssl.create_default_context(cafile=str(self.cert))


def _with_cryptography(cert: Path, key: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))


def _with_openssl(cert: Path, key: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert),
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made now (with `cryptography`, else the openssl command)."""
    folder = tmp_path_factory.mktemp("tls")
    made = Certificate(folder / "cert.pem", folder / "key.pem")
    try:
        _with_cryptography(made.cert, made.key)
    except ImportError:
        if shutil.which("openssl") is None:
            pytest.skip("cannot make a test certificate: neither the cryptography package nor openssl is available")
        _with_openssl(made.cert, made.key)
    return made


@pytest.fixture
async def tls(certificate: Certificate) -> AsyncIterator[Certificate]:
    """The certificate, for a test that opens TLS connections. asyncio closes a TLS connection in the background
    (close_notify first, then the socket): the pause lets that finish before the test's event loop is closed, which
    would otherwise leave the socket to be reported as unclosed."""
    yield certificate
    await asyncio.sleep(0.05)


def channel(port: int, **changes: Any) -> EmailChannel:
    values: dict[str, Any] = {
        "kind": "email", "host": "127.0.0.1", "port": port, "security": "none",
        "sender": "cobot <cobot@example.org>", "recipients": ["maintainers@example.org", "Bea <bea@example.org>"],
        "unsubscribe": "https://example.org/unsubscribe?list=maintainers", "timeout_seconds": 5.0,
    }
    return EmailChannel(**{**values, **changes})


def assert_no_password(error: BaseException, *passwords: str) -> None:
    for text in (str(error), repr(error), getattr(error, "reason", "")):
        for password in passwords:
            assert password not in text


# --- the message ------------------------------------------------------------------------------------------------


async def test_message_as_received(serve: Callable[..., int]) -> None:
    recorder = Recorder()
    notifier = EmailNotifier(channel(serve(recorder)))
    answer = await notifier.send(NOTICE)
    await notifier.close()

    assert answer == "accepted for 2 recipients: Message accepted"
    envelope, _ = recorder.received[0]
    assert envelope.mail_from == "cobot@example.org"
    assert envelope.rcpt_tos == ["maintainers@example.org", "bea@example.org"]

    message = recorder.message()
    assert message["Subject"] == "New contributor: alice"
    assert message["From"].addresses[0].addr_spec == "cobot@example.org"
    assert message["From"].addresses[0].display_name == "cobot"
    assert [address.addr_spec for address in message["To"].addresses] == ["maintainers@example.org",
                                                                          "bea@example.org"]
    assert message["Message-ID"] == message_id(NOTICE.key)
    assert re.fullmatch(r"<[0-9a-f]{32}@cobot>", message["Message-ID"])
    assert message["List-Unsubscribe"] == "<https://example.org/unsubscribe?list=maintainers>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "en"
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/alternative"

    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None
    text, page = plain.get_content(), rich.get_content()

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;hi&#x27;)&lt;/script&gt;" in page
    assert "<strong>@alice</strong>" in page
    assert '<a href="https://example.org/org/repo/issues/7?a=1&amp;b=2">#7 Fix &lt;typo&gt;</a>' in page
    assert "<code>org/repo</code>" in page
    assert "<ul><li>first</li><li>second</li></ul>" in page
    assert "<h2" in page and "New contributor: alice</h2>" in page
    assert 'href="https://example.org/org/repo/issues/7"' in page
    for label, value in NOTICE.fields:
        assert f"{label}</th>" in page and f"{value}</td>" in page
        assert f"{label}: {value}" in text

    assert "https://example.org/org/repo/issues/7" in text
    assert "#7 Fix <typo> (https://example.org/org/repo/issues/7?a=1&b=2)" in text
    assert "@alice opened" in text and "**" not in text
    assert "<script>alert('hi')</script>" in text  # plain text is shown as text: nothing to escape


async def test_message_id_is_stable_across_retries(serve: Callable[..., int]) -> None:
    recorder = Recorder()
    notifier = EmailNotifier(channel(serve(recorder)))
    await notifier.send(NOTICE)
    await notifier.send(NOTICE)
    await notifier.send(Notification(title="Other", body="other", key="outbox:newcomer:8"))

    first, retry, other = (recorder.message(index)["Message-ID"] for index in range(3))
    assert first == retry == message_id("outbox:newcomer:7")
    assert other != first


def test_mailto_unsubscribe_has_no_one_click_header() -> None:
    message = build_message(NOTICE, channel(25, unsubscribe="mailto:leave@example.org"))
    assert message["List-Unsubscribe"] == "<mailto:leave@example.org>"
    assert message["List-Unsubscribe-Post"] is None


def test_no_unsubscribe_header_without_an_address() -> None:
    message = build_message(NOTICE, channel(25, unsubscribe=""))
    assert message["List-Unsubscribe"] is None


def test_chinese_notification() -> None:
    notice = Notification(title="新贡献者：\nalice", body="**欢迎**", link="https://example.org/7", language="zh",
                          key="k")
    message = build_message(notice, channel(25))
    assert message["Subject"] == "新贡献者： alice"  # line breaks cannot go in a header
    assert message["Content-Language"] == "zh"
    rich = message.get_body(("html",))
    assert rich is not None
    page = rich.get_content()
    assert '<html lang="zh">' in page and "<strong>欢迎</strong>" in page and "查看详情" in page


def test_markdown_never_produces_unsafe_links() -> None:
    page = markdown_to_html('[click](javascript:alert(1)) [x](https://e.org/"onmouseover="y) `**not bold**`')
    assert "<a href=\"javascript" not in page
    assert 'href="https://e.org/%22onmouseover=%22y"' in page  # the quotes percent-encoded: still one attribute
    assert "<code>**not bold**</code>" in page
    assert markdown_to_html("> quoted <b>\n> more").startswith("<blockquote")
    assert "&lt;b&gt;<br>" in markdown_to_html("> quoted <b>\n> more")


# --- logins and TLS ---------------------------------------------------------------------------------------------


async def test_no_login_over_an_unencrypted_connection(serve: Callable[..., int]) -> None:
    recorder, authenticator = Recorder(), Authenticator()
    port = serve(recorder, authenticator=authenticator, auth_require_tls=False)
    notifier = EmailNotifier(channel(port, username=USER, password=PASSWORD))

    with pytest.raises(PermanentFailure) as refused:
        await notifier.send(NOTICE)

    assert "unencrypted" in str(refused.value) and "starttls" in str(refused.value)
    assert_no_password(refused.value, PASSWORD)
    assert authenticator.attempts == [] and recorder.received == []


async def test_starttls_login(serve: Callable[..., int], tls: Certificate) -> None:
    recorder, authenticator = Recorder(), Authenticator()
    port = serve(recorder, authenticator=authenticator, tls_context=tls.server_context(),
                 require_starttls=True, auth_required=True)
    notifier = EmailNotifier(channel(port, security="starttls", username=USER, password=PASSWORD),
                             tls_context=tls.client_context())

    assert await notifier.send(NOTICE) == "accepted for 2 recipients: Message accepted"

    _, session = recorder.received[0]
    assert session.ssl is not None and session.authenticated
    assert [(login, password) for _, login, password in authenticator.attempts] == [(USER.encode(),
                                                                                     PASSWORD.encode())]
    assert recorder.message()["Subject"] == NOTICE.title


async def test_wrong_password_is_permanent_and_never_shown(serve: Callable[..., int],
                                                           tls: Certificate) -> None:
    recorder, authenticator = Recorder(), Authenticator()
    port = serve(recorder, authenticator=authenticator, tls_context=tls.server_context(),
                 require_starttls=True, auth_required=True)
    notifier = EmailNotifier(channel(port, security="starttls", username=USER, password=WRONG_PASSWORD),
                             tls_context=tls.client_context())

    with pytest.raises(PermanentFailure) as refused:
        await notifier.send(NOTICE)

    assert "535" in str(refused.value) and "refused the login" in str(refused.value)
    assert_no_password(refused.value, WRONG_PASSWORD, PASSWORD)
    assert authenticator.attempts and recorder.received == []


async def test_implicit_tls(serve: Callable[..., int], tls: Certificate) -> None:
    recorder, authenticator = Recorder(), Authenticator()
    # aiosmtpd only counts STARTTLS as TLS for AUTH, so it must be told that this whole connection is encrypted
    port = serve(recorder, authenticator=authenticator, ssl_context=tls.server_context(),
                 auth_require_tls=False)
    notifier = EmailNotifier(channel(port, security="tls", username=USER, password=PASSWORD),
                             tls_context=tls.client_context())

    assert await notifier.send(NOTICE) == "accepted for 2 recipients: Message accepted"
    assert recorder.received[0][1].authenticated


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_untrusted_certificate_is_permanent(serve: Callable[..., int], tls: Certificate,
                                                  security: str) -> None:
    recorder = Recorder()
    if security == "starttls":
        port = serve(recorder, tls_context=tls.server_context(), require_starttls=True)
    else:
        port = serve(recorder, ssl_context=tls.server_context())
    notifier = EmailNotifier(channel(port, security=security, username=USER, password=PASSWORD))  # default trust

    with pytest.raises(PermanentFailure) as refused:
        await notifier.send(NOTICE)

    assert "certificate" in str(refused.value)
    assert_no_password(refused.value, PASSWORD)
    assert recorder.received == []


async def test_starttls_required_but_not_offered(serve: Callable[..., int]) -> None:
    recorder = Recorder()
    notifier = EmailNotifier(channel(serve(recorder), security="starttls"))

    with pytest.raises(PermanentFailure, match="STARTTLS"):
        await notifier.send(NOTICE)
    assert recorder.received == []


# --- refusals and failures --------------------------------------------------------------------------------------


async def test_temporary_refusal_is_retried(serve: Callable[..., int]) -> None:
    notifier = EmailNotifier(channel(serve(Recorder(data_reply="451 try again later"))))

    with pytest.raises(RetryLater) as wait:
        await notifier.send(NOTICE)

    assert wait.value.delay == 0
    assert "451 try again later" in wait.value.reason


async def test_service_unavailable_waits_a_minute(serve: Callable[..., int]) -> None:
    notifier = EmailNotifier(channel(serve(Recorder(data_reply="421 4.3.2 shutting down"))))

    with pytest.raises(RetryLater) as wait:
        await notifier.send(NOTICE)

    assert wait.value.delay == 60


async def test_every_recipient_refused_is_permanent(serve: Callable[..., int]) -> None:
    refusal = "550 5.1.1 no such user"
    recorder = Recorder(rcpt_replies={"maintainers@example.org": refusal, "bea@example.org": refusal})
    notifier = EmailNotifier(channel(serve(recorder)))

    with pytest.raises(PermanentFailure, match="refused every recipient"):
        await notifier.send(NOTICE)


async def test_every_recipient_refused_for_now_is_retried(serve: Callable[..., int]) -> None:
    refusal = "450 4.2.1 mailbox busy"
    recorder = Recorder(rcpt_replies={"maintainers@example.org": refusal, "bea@example.org": refusal})
    notifier = EmailNotifier(channel(serve(recorder)))

    with pytest.raises(RetryLater):
        await notifier.send(NOTICE)


async def test_some_recipients_refused(serve: Callable[..., int]) -> None:
    recorder = Recorder(rcpt_replies={"bea@example.org": "550 5.1.1 no such user"})
    notifier = EmailNotifier(channel(serve(recorder)))

    answer = await notifier.send(NOTICE)

    assert answer.startswith("accepted for 1 recipient: Message accepted; refused: bea@example.org (550")
    assert recorder.received[0][0].rcpt_tos == ["maintainers@example.org"]


async def test_closed_port_is_retried() -> None:
    notifier = EmailNotifier(channel(free_port()))

    with pytest.raises(RetryLater) as wait:
        await notifier.send(NOTICE)

    assert wait.value.delay == 0 and "cannot connect" in wait.value.reason


async def test_silent_server_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (the kernel does) but never says hello
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        notifier = EmailNotifier(channel(listener.getsockname()[1], timeout_seconds=0.3))

        with pytest.raises(RetryLater) as wait:
            await notifier.send(NOTICE)

    assert wait.value.delay == 0
