"""The digest as one e-mail: a plain-text and an HTML part, sent over SMTP with STARTTLS (certificate verified).

The login comes from SUMMARIZE_SMTP_USER / SUMMARIZE_SMTP_PASSWORD only; it is never written anywhere and never
sent over a connection that is not encrypted (except to this machine's own relay). The whole conversation, greeting
to the server's last answer, ends by ``smtp_timeout_s`` (a wall-clock `Deadline`, not a per-read timeout). Every
failure is a `DeliveryError` with the server's answer."""

from __future__ import annotations

import ipaddress
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from typing import Any

from pipeline.deliver.deadline import Deadline
from pipeline.deliver.render import plain
from pipeline.errors import DeliveryError
from pipeline.sections import Delivery

USER_ENV = "SUMMARIZE_SMTP_USER"
PASSWORD_ENV = "SUMMARIZE_SMTP_PASSWORD"
MAX_ANSWER = 500


def message(delivery: Delivery, subject: str, text: str, page: str, digest_id: str) -> EmailMessage:
    if not delivery.email_from:
        raise DeliveryError("e-mail: no sender; set --email-from (config: [delivery] email_from)", channel="email")
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = plain(subject)  # a header value never holds a line break (the policy refuses one too)
    msg["From"] = delivery.email_from
    msg["To"] = ", ".join(delivery.email_to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(idstring=digest_id, domain=delivery.email_from.rpartition("@")[2])
    msg["X-Summarize-Digest"] = digest_id
    msg.set_content(text)
    msg.add_alternative(page, subtype="html")
    return msg


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _answer(raw: object, password: str | None) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if password:
        text = text.replace(password, "***")
    return plain(text)[:MAX_ANSWER]


def _late(where: str, limit: float) -> DeliveryError:
    answer = f"no confirmation within {limit:g} s"
    return DeliveryError(
        f"{where}: gave up after {limit:g} s (smtp_timeout_s) before the server confirmed the message",
        channel="email",
        answer=answer,
    )


class _SMTP(smtplib.SMTP):
    """smtplib's client with each socket it opens handed to a `Deadline` (the plain one, then the TLS one)."""

    def __init__(self, deadline: Deadline, host: str, port: int, timeout: float) -> None:
        self._deadline = deadline
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> Any:
        sock = super()._get_socket(host, port, min(timeout, self._deadline.left()))
        self._deadline.watch(lambda: self.sock or sock)  # self.sock: the socket in use now (TLS after STARTTLS)
        return sock


def _exchange(
    msg: EmailMessage, delivery: Delivery, deadline: Deadline, user: str | None, password: str | None
) -> dict[str, tuple[int, bytes]]:
    """Greeting, EHLO, STARTTLS, login, the message: the whole conversation inside ``deadline``."""
    with _SMTP(deadline, str(delivery.smtp_host), delivery.smtp_port, delivery.smtp_timeout_s) as smtp:
        smtp.ehlo()
        if delivery.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if user:
            smtp.login(user, str(password))
        return smtp.send_message(msg, to_addrs=list(delivery.email_to))


def problems(delivery: Delivery) -> list[str]:
    """What stops the e-mail before any connection (a dry run warns about each): no sender, no server, half a
    login, a login that would travel unencrypted."""
    found = []
    if not delivery.email_from:
        found.append("e-mail: no sender; set --email-from (config: [delivery] email_from)")
    host = delivery.smtp_host
    if not host:
        found.append("e-mail: no SMTP server; set --smtp-host (config: [delivery] smtp_host)")
    user, password = os.environ.get(USER_ENV) or None, os.environ.get(PASSWORD_ENV) or None
    if bool(user) != bool(password):
        missing = PASSWORD_ENV if user else USER_ENV
        found.append(f"e-mail: {missing} is not set (the SMTP login needs both variables)")
    if host and user and not delivery.smtp_starttls and not _local(host):
        found.append(
            f"e-mail: refusing to send the SMTP login to {host} unencrypted; turn STARTTLS on (--smtp-starttls)"
        )
    return found


def send(msg: EmailMessage, delivery: Delivery) -> str:
    """Send ``msg`` to ``delivery.email_to`` through ``delivery.smtp_host``; a DeliveryError says what went wrong.
    Returns what the server refused when it took the message for some recipients only ("" when for all)."""
    problem = next(iter(problems(delivery)), None)
    if problem:
        raise DeliveryError(problem, channel="email")
    host, port = str(delivery.smtp_host), delivery.smtp_port
    user, password = os.environ.get(USER_ENV) or None, os.environ.get(PASSWORD_ENV) or None
    where = f"e-mail via {host}:{port}"
    limit = delivery.smtp_timeout_s
    try:
        with Deadline(limit) as deadline:
            try:
                refused = _exchange(msg, delivery, deadline, user, password)
            except (OSError, smtplib.SMTPException):
                if deadline.expired:
                    raise _late(where, limit) from None
                raise
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, or no AUTH while a login is set
        hint = " (a local relay without it: --no-smtp-starttls)" if "STARTTLS" in str(exc) else ""
        raise DeliveryError(f"{where}: {exc}{hint}", channel="email", answer=str(exc)) from None
    except smtplib.SMTPAuthenticationError as exc:
        answer = f"{exc.smtp_code} {_answer(exc.smtp_error, password)}"
        raise DeliveryError(f"{where}: the login was refused: {answer}", channel="email", answer=answer) from None
    except smtplib.SMTPRecipientsRefused as exc:
        answer = "; ".join(f"{to}: {code} {_answer(text, password)}" for to, (code, text) in exc.recipients.items())
        raise DeliveryError(f"{where}: every recipient was refused: {answer}", channel="email", answer=answer) from None
    except smtplib.SMTPResponseException as exc:
        answer = f"{exc.smtp_code} {_answer(exc.smtp_error, password)}"
        raise DeliveryError(f"{where}: the server answered {answer}", channel="email", answer=answer) from None
    except ssl.SSLError as exc:
        answer = _answer(exc, password)
        raise DeliveryError(f"{where}: TLS failed ({answer})", channel="email", answer=answer) from None
    except (OSError, smtplib.SMTPException) as exc:
        answer = _answer(getattr(exc, "strerror", None) or exc, password)
        raise DeliveryError(f"{where}: cannot deliver ({answer})", channel="email", answer=answer) from None
    if not refused:
        return ""
    answer = "; ".join(f"{to}: {code} {_answer(text, password)}" for to, (code, text) in refused.items())
    return f"{where}: sent, but some recipients were refused: {answer}"
